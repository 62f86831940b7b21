"""Endpoint (serving) routes: thin translations to `project.endpoints`.

Starting a server waits until every endpoint is set up and warm (seconds: the notebook's setup
cells run in the new serving process), so it runs in the API's worker pool like every other
call. An API key is in the answer that creates it only; listings never carry it."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import MlprodHandler
from .routes_drift import drift_routes

CREATE_FIELDS = ("name", "notebook", "description", "options", "serve")
UPDATE_FIELDS = ("description", "options")
VERSION_FIELDS = ("notebook", "version", "activate")
TRAFFIC_FIELDS = ("weights", "shadow", "sticky_header")
PROMOTE_FIELDS = ("version",)
KEY_FIELDS = ("label",)
TEST_FIELDS = ("request", "path", "headers")
SERVER_FIELDS = ("endpoints", "notebook", "host", "port", "workers")


def _string(body: dict, key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"the field {key!r} is required", field=key)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string", field=key)
    return value


class _Handler(MlprodHandler):
    async def body(self, allowed: tuple[str, ...]) -> dict:
        """The request's JSON object, read once the project is open (an unopenable project
        answers 503 whatever the body)."""
        await self.settings["mlprod_project"].get()
        return self.object_body(allowed)


class EndpointsHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply({"endpoints": await self.call(lambda p: p.endpoints.list())})

    @web.authenticated
    @authorized
    async def post(self):
        body = await self.body(CREATE_FIELDS)
        name = _string(body, "name", required=True)
        notebook = _string(body, "notebook")
        description = body.get("description", "")
        options = body.get("options")
        serve = body.get("serve", False)
        if not isinstance(serve, bool):
            raise InvalidInput("serve must be true or false", field="serve")
        if serve:
            if notebook is None:
                raise InvalidInput("serve needs the notebook to serve", field="notebook")
            view = await self.call(lambda p: p.endpoints.serve_notebook_endpoint(
                notebook, name=name, options=options))
        else:
            view = await self.call(lambda p: p.endpoints.create(
                name, notebook=notebook, description=description, options=options))
        self.reply(view, 201)


class EndpointHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        self.reply(await self.call(lambda p: p.endpoints.get(name)))

    @web.authenticated
    @authorized
    async def put(self, name: str):
        body = await self.body(UPDATE_FIELDS)
        description = _string(body, "description")  # stored as text: refuse {} here, not in SQL
        self.reply(await self.call(lambda p: p.endpoints.update(
            name, description=description, options=body.get("options"))))

    @web.authenticated
    @authorized
    async def delete(self, name: str):
        await self.call(lambda p: p.endpoints.delete(name))
        self.set_status(204)
        self.finish()


class VersionsHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        self.reply({"versions": await self.call(lambda p: p.endpoints.versions(name))})

    @web.authenticated
    @authorized
    async def post(self, name: str):
        body = await self.body(VERSION_FIELDS)
        notebook = _string(body, "notebook", required=True)
        version = _string(body, "version")
        activate = body.get("activate")
        if activate is not None and not isinstance(activate, bool):
            raise InvalidInput("activate must be true or false", field="activate")
        self.reply(await self.call(lambda p: p.endpoints.add_version(
            name, notebook=notebook, version=version, activate=activate)), 201)


class TrafficHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        limit = self.int_argument("limit", 20)

        def read(p):
            return {"traffic": p.endpoints.get(name)["traffic"],
                    "history": p.endpoints.traffic_history(name, limit)}
        self.reply(await self.call(read))

    @web.authenticated
    @authorized
    async def put(self, name: str):
        body = await self.body(TRAFFIC_FIELDS)
        if "weights" not in body:
            raise InvalidInput("the field 'weights' is required", field="weights")
        weights = body["weights"]
        shadow = _string(body, "shadow")
        sticky = _string(body, "sticky_header")
        self.reply(await self.call(lambda p: p.endpoints.set_traffic(
            name, weights, shadow=shadow, sticky_header=sticky, reason="set from the panel")))


class PromoteHandler(_Handler):
    @web.authenticated
    @authorized
    async def post(self, name: str):
        version = _string(await self.body(PROMOTE_FIELDS), "version", required=True)
        self.reply(await self.call(lambda p: p.endpoints.promote(name, version)))


class EndpointRollbackHandler(_Handler):
    @web.authenticated
    @authorized
    async def post(self, name: str):
        await self.body(())
        self.reply(await self.call(lambda p: p.endpoints.rollback(name)))


class KeysHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        self.reply({"keys": await self.call(lambda p: p.endpoints.list_keys(name))})

    @web.authenticated
    @authorized
    async def post(self, name: str):
        label = _string(await self.body(KEY_FIELDS), "label") or ""
        self.reply(await self.call(lambda p: p.endpoints.create_key(name, label)), 201)


class KeyHandler(_Handler):
    @web.authenticated
    @authorized
    async def delete(self, name: str, key_id: str):
        self.reply(await self.call(lambda p: p.endpoints.revoke_key(name, key_id)))


class TestRequestHandler(_Handler):
    audit_refusals = False  # changes nothing
    @web.authenticated
    @authorized
    async def post(self, name: str):
        body = await self.body(TEST_FIELDS)
        if "request" not in body:
            raise InvalidInput("the field 'request' is required (the JSON to score)",
                               field="request")
        path = _string(body, "path") or "predict"
        headers = body.get("headers")
        if headers is not None and not (isinstance(headers, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise InvalidInput("headers must be an object of strings", field="headers")
        self.reply(await self.call(lambda p: p.endpoints.test_request(
            name, body["request"], path=path, headers=headers)))


class StatsHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        self.reply(await self.call(lambda p: p.endpoints.live_stats(name)))


class EndpointOpenAPIHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        self.reply(await self.call(lambda p: p.endpoints.openapi(name)))


class PredictionsHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str):
        limit = self.int_argument("limit", 50)
        offset = self.int_argument("offset", 0)
        version = self.get_argument("version", None)
        self.reply(await self.call(lambda p: p.endpoints.predictions(
            name, limit=limit, offset=offset, version=version)))


class ServersHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply({"servers": await self.call(lambda p: p.endpoints.servers())})

    @web.authenticated
    @authorized
    async def post(self):
        body = await self.body(SERVER_FIELDS)
        notebook = _string(body, "notebook")
        endpoints = body.get("endpoints")
        if notebook is not None and endpoints is not None:
            raise InvalidInput("give endpoints or a notebook, not both", field="notebook")
        if endpoints is not None and not (isinstance(endpoints, list) and endpoints and all(
                isinstance(e, str) for e in endpoints)):
            raise InvalidInput("endpoints must be a non-empty list of endpoint names",
                               field="endpoints")
        if notebook is not None and not notebook.endswith(".ipynb"):
            raise InvalidInput("notebook must be a .ipynb path", field="notebook")
        host = _string(body, "host") or "127.0.0.1"
        port, workers = body.get("port", 0), body.get("workers")
        for key, value, low in (("port", port, 0), ("workers", workers, 1)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not low <= value <= 65535):
                raise InvalidInput(f"{key} must be a whole number from {low} to 65535",
                                   field=key)
        target = notebook if notebook is not None else endpoints
        handle = await self.call(lambda p: p.endpoints.serve(target, host=host, port=port,
                                                             workers=workers))
        self.reply(handle.to_dict(), 201)


class ServerHandler(_Handler):
    @web.authenticated
    @authorized
    async def delete(self, server_id: str):
        await self.call(lambda p: p.endpoints.stop_server(server_id))
        self.set_status(204)
        self.finish()


_EP = r"endpoints/(?P<name>[^/]+)"

# (route as in openapi.yaml, regex, handler): checked against the contract's `paths`.
ROUTES: list[tuple[str, str, type[MlprodHandler]]] = [
    ("/endpoints", "endpoints", EndpointsHandler),
    ("/endpoints/{name}", _EP, EndpointHandler),
    ("/endpoints/{name}/versions", _EP + "/versions", VersionsHandler),
    ("/endpoints/{name}/traffic", _EP + "/traffic", TrafficHandler),
    ("/endpoints/{name}/promote", _EP + "/promote", PromoteHandler),
    ("/endpoints/{name}/rollback", _EP + "/rollback", EndpointRollbackHandler),
    ("/endpoints/{name}/keys", _EP + "/keys", KeysHandler),
    ("/endpoints/{name}/keys/{id}", _EP + r"/keys/(?P<key_id>[^/]+)", KeyHandler),
    ("/endpoints/{name}/test", _EP + "/test", TestRequestHandler),
    ("/endpoints/{name}/stats", _EP + "/stats", StatsHandler),
    ("/endpoints/{name}/openapi", _EP + "/openapi", EndpointOpenAPIHandler),
    ("/endpoints/{name}/predictions", _EP + "/predictions", PredictionsHandler),
    *drift_routes(_EP),
    ("/servers", "servers", ServersHandler),
    ("/servers/{id}", r"servers/(?P<server_id>[^/]+)", ServerHandler),
]
