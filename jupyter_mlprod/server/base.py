"""The base of every REST handler under /mlprod/api/v1/. Handlers only translate HTTP <->
`Project` calls: parse the query and body, call the facade off the event loop, serialise the
result. No business rule lives here; every error goes through the one table in `errors.py`."""
from __future__ import annotations

import asyncio
import functools
import json
import re
from typing import Any, Callable, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..audit import call_as
from ..errors import InvalidInput, MlprodError, NotFound
from ..jsonbody import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, check_json_type, check_size, parse_json
from .body_schema import body_required, check_body, check_query
from .errors import new_error_id, response_for

API = "mlprod/api/v1"
T = TypeVar("T")
_INT = re.compile(r"[+-]?\d{1,18}")


class MlprodHandler(ExtensionHandlerMixin, APIHandler):
    """Base: auth resource, off-loop calls into the project, JSON replies and errors."""

    auth_resource = "mlprod"
    _error_id: str | None = None
    _reached_project = False
    # POSTs that change nothing (validate, test a request) set this False: their refusals are
    # not attempts at a change.
    audit_refusals = True

    async def prepare(self):
        """Once the caller is known, the declared query parameters are checked against the
        contract (bounds, enums, formats) before any handler reads them."""
        await super().prepare()
        route = _route_of(type(self))
        if self._finished or not self.current_user or route is None \
                or "mlprod_openapi" not in self.settings:
            return
        check_query(self.settings["mlprod_openapi"], route, self.request.method,
                    self.request.query_arguments)

    # -- calling the project --------------------------------------------------------------
    async def in_pool(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.settings["mlprod_pool"],
                                                                fn, *args)

    async def call(self, action: Callable[[Any], T]) -> T:
        """Run `action(project)` in the app's worker pool (SQL and file I/O block), as the
        Jupyter user who asked (the actor of any audit event it writes)."""
        self._reached_project = True   # from here on, the action audits its own refusals
        project = await self.settings["mlprod_project"].get()
        return await self.in_pool(call_as, self.actor, action, project)

    @property
    def actor(self) -> str | None:
        user = self.current_user
        return getattr(user, "username", None) or (user if isinstance(user, str) else None)

    # -- request parsing ------------------------------------------------------------------
    def json_body(self, *, allow_empty: bool = False) -> Any:
        """The body, parsed by the one JSON parser (size, depth, finite numbers) and checked
        against the operation's `requestBody` schema in openapi.yaml."""
        raw = self.request.body or b""
        limits = self.settings.get("mlprod_body_limits") or {}
        check_size(len(raw), limits.get("max_bytes", DEFAULT_MAX_BYTES))
        route = _route_of(type(self))
        loader = self.settings.get("mlprod_openapi")
        if not raw.strip():
            if allow_empty and not (route and loader
                                    and body_required(loader, route, self.request.method)):
                return None
            raise InvalidInput("the request body must be JSON", field="body")
        check_json_type(self.request.headers.get("Content-Type"))
        body = parse_json(raw, max_depth=limits.get("max_depth", DEFAULT_MAX_DEPTH),
                          syntax_code="invalid")
        if route is not None and loader is not None:
            check_body(loader, route, self.request.method, body)
        return body

    def object_body(self, allowed: tuple[str, ...]) -> dict:
        """An optional JSON object body whose keys must all be in `allowed`."""
        body = self.json_body(allow_empty=True)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object", field="body")
        for key in body:
            if key not in allowed:
                hint = f" (allowed: {', '.join(allowed)})" if allowed else " (send no body)"
                raise InvalidInput(f"unknown field {key!r} in the request body{hint}", field=key)
        return body

    def required_argument(self, name: str) -> str:
        value = self.get_argument(name, None)
        if value is None:
            raise InvalidInput(f"the query parameter {name!r} is required", field=name)
        return value

    def int_argument(self, name: str, default: int) -> int:
        value = self.get_argument(name, None)
        if value is None:
            return default
        if not _INT.fullmatch(value):
            raise InvalidInput(f"{name} must be a whole number, got {value!r}", field=name)
        return int(value)

    # -- replies --------------------------------------------------------------------------
    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def accepted(self, run: dict) -> None:
        """202 with the run, and where to poll it."""
        self.set_header("Location", self.base_url.rstrip("/") + f"/{API}/runs/{run['id']}")
        self.reply(run, 202)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, MlprodError):
            self.log.info("mlprod: %s %s -> %s: %s", self.request.method, self.request.path,
                          value.code, value.message)
        elif isinstance(value, web.HTTPError) and value.status_code < 500:
            super().log_exception(typ, value, tb)
        else:
            self._error_id = new_error_id()
            self.log.error("mlprod: unexpected error %s on %s %s", self._error_id,
                           self.request.method, self.request.path, exc_info=(typ, value, tb))

    def _audit_refusal(self, exc: MlprodError) -> None:
        if self.request.method in ("POST", "PUT", "PATCH", "DELETE") and self.audit_refusals \
                and not self._reached_project:
            _record_refusal(self, exc)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if status_code >= 500 and not isinstance(exc, MlprodError) and not self._error_id:
            self._error_id = new_error_id()
            self.log.error("mlprod: error %s (status %s) on %s %s", self._error_id, status_code,
                           self.request.method, self.request.path)
        status, body = response_for(exc, status_code, self._error_id)
        if isinstance(exc, MlprodError) and 400 <= status < 500 and status not in (401, 403):
            self._audit_refusal(exc)
        self.set_status(status)
        self.finish(json.dumps(body))


def _record_refusal(handler: MlprodHandler, exc: MlprodError) -> None:
    """A change refused by the door itself (a body that is not JSON, an unknown field...),
    before any action ran: recorded as `request.refused` on the route, by the user."""
    actor, route = handler.actor, f"{handler.request.method} {handler.request.path}"
    holder, pool = handler.settings["mlprod_project"], handler.settings["mlprod_pool"]

    async def record() -> None:
        try:
            project = await holder.get()
            await asyncio.get_running_loop().run_in_executor(pool, lambda: call_as(
                actor, project.audit_trail.record, "request.refused", object_type="route",
                object_id=route[:200], outcome="refused", reason=exc.message,
                details={"code": exc.code, "field": exc.field}))
        except Exception:  # noqa: BLE001 - the project may be what is broken
            handler.log.warning("mlprod: could not audit a refused %s", route, exc_info=True)

    asyncio.ensure_future(record())


@functools.cache
def _route_of(handler: type) -> str | None:
    """The contract's route of a handler class (from the route table)."""
    from .handlers import ROUTES

    for route, _, cls in ROUTES:
        if cls is handler:
            return route
    return None


class OpenAPIHandler(MlprodHandler):
    """The contract itself; served even when the project cannot be opened."""

    @web.authenticated
    @authorized
    async def get(self):
        self.reply(await self.in_pool(self.settings["mlprod_openapi"]))


class UnknownRouteHandler(MlprodHandler):
    """Anything else under the API prefix: a JSON 404, not Jupyter's HTML page."""
    audit_refusals = False  # changes nothing

    async def _unknown(self, *args, **kwargs):
        raise NotFound(f"no API route {self.request.method} {self.request.path}", field="path",
                       code="unknown_route")

    # one wrapper per method: `authorized` remembers the action of its first call
    get = web.authenticated(authorized(_unknown))
    post = web.authenticated(authorized(_unknown))
    put = web.authenticated(authorized(_unknown))
    delete = web.authenticated(authorized(_unknown))
    patch = web.authenticated(authorized(_unknown))
