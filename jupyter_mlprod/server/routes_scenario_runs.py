"""Scenario run routes: one scenario run (a fire) with its steps' outcomes, and the decision on
its waiting `approve` step. Thin: `project.scenario_runs` holds every rule (who may approve,
409 when nothing waits, the audit event)."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import MlprodHandler


def fire_id_of(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 2 ** 31:
        raise InvalidInput(f"a scenario run id is a positive whole number, got {raw!r}",
                           field="id")
    return int(raw)


class ScenarioRunHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, fire_id: str):
        number = fire_id_of(fire_id)
        self.reply(await self.call(lambda p: p.scenario_runs.get(number)))


class ScenarioRunApprovalHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def post(self, fire_id: str):
        number = fire_id_of(fire_id)
        body = self.object_body(("decision", "message"))
        decision, message = body.get("decision"), body.get("message")
        if decision not in ("approve", "reject"):
            raise InvalidInput("decision must be 'approve' or 'reject'", field="decision")
        if message is not None and not isinstance(message, str):
            raise InvalidInput("message must be text", field="message")
        self.reply(await self.call(lambda p: p.scenario_runs.decide(number, decision, message)))


ROUTES: list[tuple[str, str, type[MlprodHandler]]] = [
    ("/scenarios/fires/{id}", r"scenarios/fires/(?P<fire_id>[^/]+)", ScenarioRunHandler),
    ("/scenarios/fires/{id}/approval", r"scenarios/fires/(?P<fire_id>[^/]+)/approval",
     ScenarioRunApprovalHandler),
]
