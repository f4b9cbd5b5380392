"""The shape every emulated API's route table has: REST method and path → handler.

Each API package has a `routes.py` whose `TABLE` lists its REST methods as `Route`s; `app.py` turns each table
into a Flask blueprint bound to the API object. A handler is a plain function of the API object and the path's
variables; it reads the request (through `emulator.http`), calls the API, and returns the JSON body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response
from werkzeug.routing import BaseConverter

from .http import json_response

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    method: str  # HTTP method
    rule: str  # Flask rule: the discovery document's path, variables as `<name>`
    handler: Handler  # handler(api, **variables, **params) -> JSON body (or a Response)
    # Keywords the path fixes without a variable, e.g. the Compute collection of `/global/urlMaps`.
    params: Mapping[str, Any] = field(default_factory=dict)
    # False for catch-all rules that only answer "not found" or "not implemented" for what is not in the table.
    served: bool = True


@dataclass(frozen=True)
class RouteTable:
    name: str  # the blueprint's name: the API's name
    routes: tuple[Route, ...]
    converters: Mapping[str, type[BaseConverter]] = field(default_factory=dict)

    def blueprint(self, api: object) -> Blueprint:
        bp = Blueprint(self.name, __name__)
        for name, converter in self.converters.items():
            bp.record_once(lambda state, n=name, c=converter: state.app.url_map.converters.setdefault(n, c))
        for index, route in enumerate(self.routes):
            prefix = "" if route.served else "unserved_"
            bp.add_url_rule(
                route.rule,
                endpoint=f"{prefix}{route.handler.__name__}_{index}",
                view_func=_view(api, route),
                methods=[route.method],
            )
        return bp


def _view(api: object, route: Route) -> Callable[..., Response]:
    def view(**variables: Any) -> Response:
        body = route.handler(api, **route.params, **variables)
        return body if isinstance(body, Response) else json_response(body)

    return view
