"""Metrics and checks routes: a run's metrics and check results, a step's metric history."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import MlprodHandler


class RunMetricsHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str):
        step = self.get_argument("step", None)
        self.reply(await self.call(lambda p: p.metrics.run_metrics(run_id, step)))


class RunChecksHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str):
        self.reply(await self.call(lambda p: p.metrics.run_checks(run_id)))


class StepMetricHistoryHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, step: str):
        metric = self.get_argument("metric", None) or None
        last = self.int_argument("last", 20)
        self.reply(await self.call(lambda p: p.metrics.history(step, metric, last)))


_RUN = r"runs/(?P<run_id>[^/]+)"

ROUTES: list[tuple[str, str, type[MlprodHandler]]] = [
    ("/runs/{id}/metrics", _RUN + "/metrics", RunMetricsHandler),
    ("/runs/{id}/checks", _RUN + "/checks", RunChecksHandler),
    ("/steps/{step}/metrics", r"steps/(?P<step>[^/]+)/metrics", StepMetricHistoryHandler),
]
