"""The permission-check hook: before any API handler runs, the route's `Check` turns the request into the
permissions it needs, and the first one the caller does not hold is answered with its API's 403.

It runs after fault injection and before the handler, so a refused call changes nothing (and, as in production,
a 403 "(or it may not exist)" comes before any 404). Only API requests are checked: the test controls, Admin
Activity entries and Eventarc deliveries are the emulator's own doing. Every project id a path names is
remembered by Resource Manager, so a project later named by its number (Cloud Run v1 namespaces) is recognized.
"""

from __future__ import annotations

from flask import request

from ..http import principal, region_from_host
from .api import IamApi
from .needs import Ctx
from .permissions import lookup

_PROJECT_VARIABLES = ("project", "namespace", "project_id")


def authorize_request(iam: IamApi) -> None:
    rule = request.url_rule
    check = lookup(request.method, rule.rule) if rule is not None else None
    if check is None:
        return  # not a served API method: the catch-all routes only refuse
    args = dict(request.view_args or {})
    with iam.emu.lock:
        for key in _PROJECT_VARIABLES:
            value = args.get(key)
            if isinstance(value, str) and value and value != "-":
                iam.hierarchy.remember(value)
    body = request.get_json(force=True, silent=True) if request.get_data(cache=True).strip() else None
    ctx = Ctx(
        args=args,
        query=request.args,
        body=body if isinstance(body, dict) else {},
        host_region=region_from_host(),
        run_service=iam.run_service,
    )
    iam.authorize(principal(), check.needs(ctx))
