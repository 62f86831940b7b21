"""Drift routes of an endpoint version: the report over a window, and its recorded history.
Thin translations to `project.drift`; listed in routes_endpoints after the /endpoints rows so
the table keeps openapi.yaml's order."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import MlprodHandler


class DriftHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        version = self.get_argument("version", None) or None
        window = self.get_argument("window", None) or None
        self.reply(await self.call(lambda p: p.drift.report(name, version=version, window=window)))


class DriftHistoryHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        version = self.get_argument("version", None) or None
        feature = self.get_argument("feature", None) or None
        self.reply(await self.call(lambda p: p.drift.history(name, version=version,
                                                             feature=feature)))


def drift_routes(endpoint_regex: str) -> list[tuple[str, str, type[MlprodHandler]]]:
    return [("/endpoints/{name}/drift", endpoint_regex + "/drift", DriftHandler),
            ("/endpoints/{name}/drift/history", endpoint_regex + "/drift/history",
             DriftHistoryHandler)]
