"""Every emulated API method checks permissions: each served route has an entry in the permission table, the table
names no route that is not served, and every permission it can ask for is one Owner is shown to hold."""

from __future__ import annotations

import re
from pathlib import Path

from emulator import Emulator
from emulator.app import CONTROL_PREFIX, create_app
from emulator.iam.permissions import CHECKS, catalogue
from emulator.iam.roles import PREDEFINED

README = Path(__file__).resolve().parents[2] / "emulator" / "README.md"


def served() -> set[tuple[str, str]]:
    emu = Emulator()
    try:
        app = create_app(emu)
        found = set()
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(CONTROL_PREFIX + "/") or rule.endpoint.rpartition(".")[2].startswith("unserved_"):
                continue
            found |= {(verb, rule.rule) for verb in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
        return found
    finally:
        emu.close()


def test_every_served_route_has_a_permission_check() -> None:
    missing = sorted(served() - set(CHECKS))
    assert not missing, "routes without a permission check (emulator/iam/permissions_*.py):\n" + "\n".join(
        f"{m} {r}" for m, r in missing
    )


def test_the_table_names_only_served_routes() -> None:
    stale = sorted(set(CHECKS) - served())
    assert not stale, f"permission checks for routes nobody serves: {stale}"


def test_every_permission_checked_is_catalogued() -> None:
    known = catalogue()
    asked = {p for check in CHECKS.values() for p in check.permissions}
    assert asked <= known
    assert {"compute.backendServices.use", "compute.backendBuckets.use", "iam.serviceAccounts.actAs"} <= known


def test_method_ids_are_unique() -> None:
    ids = [check.method for check in CHECKS.values()]
    assert len(ids) == len(set(ids))


def test_the_readme_lists_every_method_and_its_permissions() -> None:
    text = README.read_text()
    table = text[text.index("### Permissions per method") :]
    for check in CHECKS.values():
        rows = [line for line in table.splitlines() if line.startswith(f"| `{check.method}` |")]
        assert len(rows) == 1, f"README: no single row for {check.method}"
        for permission in check.permissions:
            assert f"`{permission}`" in rows[0], f"README row of {check.method} lacks {permission}"


def test_the_readme_lists_every_predefined_role() -> None:
    text = README.read_text()
    listed = set(re.findall(r"`(roles/[a-zA-Z.]+)`", text[text.index("### Predefined roles") :]))
    assert set(PREDEFINED) <= listed
