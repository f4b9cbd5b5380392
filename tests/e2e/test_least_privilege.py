"""infra/ is least privilege, proven against the emulator's IAM (issue: "infra/ proven least-privilege").

The roles and bindings are infra/'s own: `tests/e2e/least_privilege.py` reads the custom roles' permissions and
the bindings of the three functions' service accounts from `infra/*.tf` with python-hcl2 (variables at their
defaults: a single-project installation, `act_as` bound project-wide; or `scope = ["organizations/N"]` for the
organization-mode test) and installs them in the emulator, whose IAM then checks every call for the permissions
Google documents for it. alice, bob and mallory, the developers of the story, and the operator the test reads as
(who also bootstraps the Terraform-owned load balancer and the triggers before any policy is set) are owners. The
story (`least_privilege.story`, its docstring says each step): create, label, relabel, a second region, a
conflict, unlabel, delete, published but not public, made public, events lost while the triggers are gone, the
sweep, a sweep racing an event, the dry run, an event naming its project by number, a Cloud Armor policy that does
not exist.

What is proven, and how:

1. **Enough, through the whole stack** (`test_whole_story_through_the_local_stack`): the functions run as
   processes, each calling Google as its own identity (the local stack's, bound to infra's roles in place of
   Terraform's account names: the same roles and bindings), fed by the emulator's Eventarc; `reconcile_all` is
   POSTed to and `python main.py reconcile --dry-run` runs as its identity. Every step has its outcome, no decision
   is an error, and the emulator's call log holds no 403 for any function's identity. (The last two steps need
   another configuration or an event the emulator never writes: they are played in process only.)
2. **Enough, and every permission exercised** (`test_every_permission_is_exercised_and_enough`): the same story
   in process (the functions' entry points called with a configuration naming their identity, fed the CloudEvents
   Eventarc makes of the emulator's own audit entries; the sweep through `functions.reconcile_all.handle`), with
   `Checks` recording every permission the emulator granted to whom: each permission of each custom role was
   granted to a function bound to it, and no call was refused.
3. **Nothing more than needed** (`test_each_permission_is_needed`, once per permission of each custom role): the
   permission is removed from its role in the emulator and the in-process story is played again; some step must
   then fail: an outcome missing, an error decision (runway reports a 403 as `api_error`), or a refused call. The
   failing step is printed. Runs stop at the first failing step; together they take about a minute on two cores,
   the whole file about a minute and a half.
4. **Organization mode** (`test_organization_mode_needs_each_scope_permission`): infra's organization roles,
   bound at the organization, let a service created two levels below it be published on runway's load balancer
   across projects and the sweep walk the organization (no permission missing), and without any one permission of
   `shared.permissions.SCOPE` some step fails. (tests/e2e/test_org_stack.py plays the same through the local
   stack's sink, topic and Pub/Sub triggers.)

Compute operations take time in the steps that make and remove objects (`Step.operations_take_time`), so runway
waits on them, and needs their permissions, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.bootstrap import create_load_balancer
from devstack.org import Org, create_org
from devstack.stack import LocalStack
from emulator import EmulatorServer
from shared.permissions import SCOPE

from .least_privilege import (
    ENV,
    FUNCTIONS,
    PROJECT,
    REGION,
    Checks,
    InProcess,
    WholeStack,
    forbidden,
    org_story,
    play,
    read_infra_iam,
    seed_iam,
    set_role_permissions,
    story,
)

INFRA = read_infra_iam()  # Terraform's own account emails: what the in-process runs call as
PERMISSIONS = [
    (role, permission) for role, permissions in sorted(INFRA.roles.items()) for permission in sorted(permissions)
]


@pytest.fixture
def fresh(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session's emulator, empty, with the Terraform-owned load balancer made before any policy is set."""
    create_load_balancer(emulator.url, PROJECT)
    yield emulator


def test_whole_story_through_the_local_stack(stack: LocalStack) -> None:
    infra = read_infra_iam(PROJECT, identities={function: stack.identity(function) for function in FUNCTIONS})
    seed_iam(stack.server, infra)
    driver = WholeStack(stack)
    checks = Checks(stack.server)
    with checks.installed():
        driver.checks = checks
        failures = play(driver, story(), stop_at_first_failure=False)
    assert failures == []
    assert forbidden(stack.server, list(infra.identities.values())) == []


def test_every_permission_is_exercised_and_enough(fresh: EmulatorServer) -> None:
    seed_iam(fresh, INFRA)
    checks = Checks(fresh)
    with checks.installed(), InProcess(fresh, INFRA.identities) as driver:
        driver.checks = checks
        failures = play(driver, story(), stop_at_first_failure=False)
    assert failures == []
    assert forbidden(fresh, list(INFRA.identities.values())) == []
    unexercised = {
        role: sorted(permissions - set().union(*(checks.granted_to(INFRA.identities[f]) for f in INFRA.holders(role))))
        for role, permissions in INFRA.roles.items()
    }
    assert {role: left for role, left in unexercised.items() if left} == {}


@pytest.mark.parametrize(
    ("role", "permission"), PERMISSIONS, ids=[f"{r.rsplit('/', 1)[1]}-{p}" for r, p in PERMISSIONS]
)
def test_each_permission_is_needed(fresh: EmulatorServer, role: str, permission: str) -> None:
    seed_iam(fresh, INFRA)
    set_role_permissions(fresh, role, INFRA.roles[role] - {permission})
    checks = Checks(fresh)
    with checks.installed(), InProcess(fresh, INFRA.identities) as driver:
        driver.checks = checks
        failures = play(driver, story())
    assert failures, f"the whole story passes without {permission} in {role}: infra grants more than runway needs"
    print(f"without {permission}: {failures[0]}")


ORG = Org()
ORG_INFRA = read_infra_iam(variables={"scope": [ORG.runway_scope]})  # organization mode, Terraform's accounts
ORG_ROLES = {f: f"{ORG.organization_name}/roles/runway_{f}" for f in FUNCTIONS}
SCOPE_PERMISSIONS = [(f, p) for f, permissions in sorted(SCOPE.items()) for p in sorted(permissions)]


@pytest.mark.parametrize(("function", "permission"), [(None, None), *SCOPE_PERMISSIONS])
def test_organization_mode_needs_each_scope_permission(
    fresh: EmulatorServer, function: str | None, permission: str | None
) -> None:
    """Organization mode, in process: infra's organization roles (`scope = [organizations/N]`) are enough for a
    service created in a project two levels below the organization to be published and swept (function None), and
    without any one of the Resource Manager permissions of `shared.permissions.SCOPE` some step fails."""
    create_org(fresh.url, PROJECT, REGION, ORG, destinations={})
    assert ORG_INFRA.roles[ORG_ROLES["reconcile_all"]] >= SCOPE["reconcile_all"]
    seed_iam(fresh, ORG_INFRA)
    if function is not None and permission is not None:
        role = ORG_ROLES[function]
        set_role_permissions(fresh, role, ORG_INFRA.roles[role] - {permission})
    env = {**ENV, "RUNWAY_SCOPE": ORG.runway_scope}
    with InProcess(fresh, ORG_INFRA.identities, env) as driver:
        failures = play(driver, org_story())
    if function is None:
        assert failures == []
        assert forbidden(fresh, list(ORG_INFRA.identities.values())) == []
    else:
        assert failures, f"organization mode works without {permission} for {function}"
        print(f"without {permission} ({function}): {failures[0]}")


def test_folder_mode_is_enough_with_runway_outside_the_folder(fresh: EmulatorServer) -> None:
    """`scope = ["folders/M"]` (and `organization_id`): the organization roles bound at the folder, and runway's own
    project, outside the folder, reached through the project-level bindings infra keeps in every mode."""
    org = Org(scope="2001")
    infra = read_infra_iam(variables={"scope": [org.runway_scope], "organization_id": org.organization})
    assert {node for node, _, _ in infra.bindings} == {f"projects/{PROJECT}", "folders/2001"}
    create_org(fresh.url, PROJECT, REGION, org, destinations={})
    seed_iam(fresh, infra)
    with InProcess(fresh, infra.identities, {**ENV, "RUNWAY_SCOPE": org.runway_scope}) as driver:
        assert play(driver, org_story()) == []
    assert forbidden(fresh, list(infra.identities.values())) == []
