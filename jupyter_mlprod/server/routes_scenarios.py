"""Scenario routes: list, create, edit, enable/disable, run now, validation as you type, fire
history and the monitoring timeline. Each handler parses HTTP and calls `project.scenarios`
(ScenarioService) off the event loop; validation, secrets masking and every rule live there."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import API, MlprodHandler
from .routes_scenario_runs import ROUTES as _RUN_ROUTES

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


class ScenarioHandlerBase(MlprodHandler):
    def bool_argument(self, name: str, default: bool = False) -> bool:
        value = self.get_argument(name, None)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise InvalidInput(f"{name} must be true or false, got {value!r}", field=name)

    def created(self, scenario: dict) -> None:
        self.set_header("Location",
                        self.base_url.rstrip("/") + f"/{API}/scenarios/{scenario['id']}")
        self.reply(scenario, 201)


class ScenariosHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply({"scenarios": await self.call(lambda p: p.scenarios.list())})

    @web.authenticated
    @authorized
    async def post(self):
        spec = self.json_body()
        self.created(await self.call(lambda p: p.scenarios.create(spec)))


class ScenarioValidateHandler(ScenarioHandlerBase):
    audit_refusals = False  # changes nothing
    @web.authenticated
    @authorized
    async def post(self):
        deep = self.bool_argument("deep")
        current = self.get_argument("current", None) or None
        spec = self.json_body()
        self.reply(await self.call(lambda p: p.scenarios.validate(spec, current=current,
                                                                  deep=deep)))


class ScenarioTimelineHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def get(self):
        since = self.get_argument("since", None)
        until = self.get_argument("until", None)
        scenario = self.get_argument("scenario", None) or None
        limit = self.int_argument("limit", 500)
        self.reply({"fires": await self.call(lambda p: p.scenarios.timeline(
            since, until, scenario=scenario, limit=limit))})


class FireDeliveriesHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def get(self, fire_id: str):
        if not fire_id.isdigit() or not 0 < int(fire_id) < 2 ** 31:
            raise InvalidInput(f"a fire id is a positive whole number, got {fire_id!r}",
                               field="id")
        self.reply({"deliveries": await self.call(
            lambda p: p.scenarios.deliveries(int(fire_id)))})


class ScenarioHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def get(self, scenario: str):
        self.reply(await self.call(lambda p: p.scenarios.get(scenario)))

    @web.authenticated
    @authorized
    async def put(self, scenario: str):
        spec = self.json_body()
        self.reply(await self.call(lambda p: p.scenarios.update(scenario, spec)))

    @web.authenticated
    @authorized
    async def delete(self, scenario: str):
        await self.call(lambda p: p.scenarios.remove(scenario))
        self.set_status(204)
        self.finish()


class ScenarioEnableHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def post(self, scenario: str):
        self.object_body(())
        self.reply(await self.call(lambda p: p.scenarios.enable(scenario)))


class ScenarioDisableHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def post(self, scenario: str):
        self.object_body(())
        self.reply(await self.call(lambda p: p.scenarios.disable(scenario)))


class ScenarioTriggerHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def post(self, scenario: str):
        self.object_body(())
        result = await self.call(lambda p: p.scenarios.trigger(scenario))
        if "scenario" in result and "parameters" not in result:   # a scenario run of steps
            self.set_header("Location", self.base_url.rstrip("/")
                            + f"/{API}/scenarios/fires/{result['id']}")
            self.reply(result, 202)
            return
        self.accepted(result)


class ScenarioFiresHandler(ScenarioHandlerBase):
    @web.authenticated
    @authorized
    async def get(self, scenario: str):
        limit = self.int_argument("limit", 50)
        self.reply({"fires": await self.call(lambda p: p.scenarios.fires(scenario, limit))})


_SCENARIO = r"scenarios/(?P<scenario>[^/]+)"

# (route as in openapi.yaml, regex, handler), in the contract's order. The fixed routes come
# before `scenarios/{id}`, which would otherwise take `validate` or `timeline` for a name.
ROUTES: list[tuple[str, str, type[MlprodHandler]]] = [
    ("/scenarios", "scenarios", ScenariosHandler),
    ("/scenarios/validate", "scenarios/validate", ScenarioValidateHandler),
    ("/scenarios/timeline", "scenarios/timeline", ScenarioTimelineHandler),
    ("/scenarios/fires/{id}/deliveries", r"scenarios/fires/(?P<fire_id>[^/]+)/deliveries",
     FireDeliveriesHandler),
    *_RUN_ROUTES,
    ("/scenarios/{id}", _SCENARIO, ScenarioHandler),
    ("/scenarios/{id}/enable", _SCENARIO + "/enable", ScenarioEnableHandler),
    ("/scenarios/{id}/disable", _SCENARIO + "/disable", ScenarioDisableHandler),
    ("/scenarios/{id}/trigger", _SCENARIO + "/trigger", ScenarioTriggerHandler),
    ("/scenarios/{id}/fires", _SCENARIO + "/fires", ScenarioFiresHandler),
]
