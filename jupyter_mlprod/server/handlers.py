"""The route table: every capability's routes module adds its (route, regex, handler) rows.

The server tests check this table against openapi.yaml's `paths`, so a route cannot exist on
one side only. To add a capability's REST surface, write `routes_<capability>.py` with a
`ROUTES` list and add it to `_MODULES`.
"""
from __future__ import annotations

import importlib

from .base import API, MlprodHandler, OpenAPIHandler, UnknownRouteHandler

_MODULES = ("routes_pipelines", "routes_bundles", "routes_scenarios", "routes_endpoints",
            "routes_audit", "routes_metrics")

ROUTES: list[tuple[str, str, type[MlprodHandler]]] = [
    row for name in _MODULES for row in importlib.import_module(f"{__package__}.{name}").ROUTES
] + [("/openapi.json", "openapi.json", OpenAPIHandler)]


def routes() -> list[tuple[str, type[MlprodHandler]]]:
    table = [(f"{API}/{regex}", handler) for _, regex, handler in ROUTES]
    return table + [(f"{API}/(?P<rest>.*)", UnknownRouteHandler)]
