"""Cold start: what a function's first request pays for is decided by imports, so they are checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_import_main_does_not_import_compute() -> None:
    modules = imported_modules("import main")
    assert "main" in modules
    assert not {m for m in modules if m.startswith("google.cloud.compute_v1")}
    assert not {m for m in modules if m.startswith("google.cloud.logging")}


@pytest.mark.parametrize("handler", ["functions.enforce_ingress", "functions.sync_routes", "functions.reconcile_all"])
def test_loading_a_handler_defers_the_clients_to_first_use(handler: str) -> None:
    modules = imported_modules(f"import main, {handler}")
    assert not {m for m in modules if m.startswith(("google.cloud.compute_v1", "google.cloud.run_v2"))}
