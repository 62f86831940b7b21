"""Thin REST handlers of the production node. Every route needs the node token (401 without
it). Blocking work (SQL, hashing, file copies, papermill) runs in a thread pool, never on the
event loop. Errors are `{"error": {"code", "message", "field"[, "details"]}}`."""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import uuid

from tornado import web

from ..audit import call_as
from ..bundles.environment import current_lock
from ..errors import Conflict, InvalidInput, MlprodError, NotFound, Unavailable
from ..jsonbody import TOO_LARGE, UNSUPPORTED_TYPE, check_json_type, check_size, parse_json
from .config import check_token

log = logging.getLogger(__name__)
STATUS = {InvalidInput: 400, NotFound: 404, Conflict: 409, Unavailable: 503}
CODE_STATUS = {TOO_LARGE: 413, UNSUPPORTED_TYPE: 415}
MAX_BLOB = 1 << 40
_MAX_ID = 2 ** 63 - 1


def status_for(exc: MlprodError) -> int:
    if exc.code in CODE_STATUS:
        return CODE_STATUS[exc.code]
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


class NodeHandler(web.RequestHandler):
    token_name: str | None = None

    @property
    def node(self):
        return self.application.settings["node"]

    def prepare(self):
        name = check_token(self.node.tokens, self.request.headers.get("Authorization"))
        if name is None:
            self.set_header("WWW-Authenticate", 'Bearer realm="mlprod-node"')
            self.send_error(401, reason_code="unauthorized",
                            message="a valid node token is required (Authorization: Bearer ...)")
            return
        self.token_name = name

    def check_xsrf_cookie(self):  # token auth, no cookies
        pass

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, MlprodError):
            body = exc.to_dict()
        elif "message" in kwargs:
            body = {"code": kwargs.get("reason_code", "error"), "message": kwargs["message"],
                    "field": None}
        elif isinstance(exc, web.HTTPError):
            body = {"code": "invalid" if status_code < 500 else "error",
                    "message": exc.log_message or self._reason, "field": None}
        else:
            error_id = uuid.uuid4().hex[:12]
            log.error("internal error %s", error_id, exc_info=kwargs.get("exc_info"))
            body = {"code": "internal", "message": f"internal error (id {error_id}); see the node "
                    "log", "field": None}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": body}))

    def body(self) -> dict:
        """The JSON object body, through the one parser: size and depth capped (the node's
        `[node] max_body_bytes` / `max_json_depth`), finite numbers, JSON content type only."""
        raw = self.request.body or b""
        limits = self.node.body_limits
        check_size(len(raw), limits["max_bytes"])
        if raw.strip():
            check_json_type(self.request.headers.get("Content-Type"))
        data = parse_json(raw, max_depth=limits["max_depth"]) if raw.strip() else {}
        if not isinstance(data, dict):
            raise InvalidInput("the request body must be a JSON object", field="body")
        return data

    def actor(self, data: dict) -> str:
        claimed = data.get("actor")
        claimed = claimed if isinstance(claimed, str) and claimed.strip() else None
        return f"{claimed or 'unknown'} (token {self.token_name})"

    async def call(self, fn, *args, **kwargs):
        """`fn` in the node's pool, acting as the token's name (the audit events' actor)."""
        loop = asyncio.get_running_loop()
        actor = f"token:{self.token_name}" if self.token_name else None
        return await loop.run_in_executor(self.node.pool,
                                          lambda: call_as(actor, fn, *args, **kwargs))

    def reply(self, data, status: int = 200):
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))

    def _handle_request_exception(self, e):
        if isinstance(e, MlprodError):
            self.send_error(status_for(e), exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)

    def int_arg(self, name: str, default: int) -> int:
        value = self.get_argument(name, None)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidInput(f"{name} must be a whole number", field=name) from None
        if abs(number) > _MAX_ID:  # the store's integers are 64-bit
            raise InvalidInput(f"{name} is out of range", field=name)
        return number


class HealthHandler(NodeHandler):
    async def get(self):
        active = await self.call(self.node.service.active)
        self.reply({"status": "ok", "node": self.node.service.node_name, "active": active,
                    "runtime": self.node.runtime.describe(), "version": self.node.version})


class EnvironmentHandler(NodeHandler):
    async def get(self):
        self.reply(await self.call(current_lock))


class MissingBlobsHandler(NodeHandler):
    async def post(self):
        data = self.body()
        missing = await self.call(self.node.service.missing_blobs, data.get("hashes"))
        self.reply({"missing": missing})


@web.stream_request_body
class BlobHandler(NodeHandler):
    """PUT /blobs/<sha256>: the body is streamed to a worker thread that hashes and writes it;
    the blob becomes visible only if its bytes hash to the name."""

    def prepare(self):
        super().prepare()
        if self._finished:
            return
        self.request.connection.set_max_body_size(MAX_BLOB)
        length = self.request.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise InvalidInput("PUT a blob with a Content-Length", field="Content-Length")
        self._size = int(length)
        self._queue: queue.Queue = queue.Queue(maxsize=16)
        sha = self.path_args[0]
        self._buffer = b""
        self._eof = False
        self._gone = threading.Event()  # the receiving thread has stopped (done or failed)

        def receive():
            try:
                return self.node.service.receive_blob(sha, self._read, self._size)
            finally:
                self._gone.set()

        self._future = asyncio.get_running_loop().run_in_executor(self.node.pool, receive)

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n and not self._eof:
            chunk = self._queue.get()
            if chunk is None:
                self._eof = True
                break
            if isinstance(chunk, BaseException):
                raise chunk
            self._buffer += chunk
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def _put(self, chunk) -> None:
        while not self._gone.is_set():  # after a refusal (bad hash, full disk) drop the rest
            try:
                self._queue.put(chunk, timeout=0.2)
                return
            except queue.Full:
                continue

    async def data_received(self, chunk: bytes):
        if self._gone.is_set():
            return
        try:
            self._queue.put_nowait(chunk)
        except queue.Full:  # back-pressure: wait in a thread, not on the event loop
            await asyncio.get_running_loop().run_in_executor(None, self._put, chunk)

    def on_connection_close(self):
        if hasattr(self, "_queue"):
            try:
                self._queue.put_nowait(EOFError("the upload was interrupted"))
            except queue.Full:
                pass

    async def put(self, sha: str):
        await asyncio.get_running_loop().run_in_executor(None, self._put, None)
        result = await self._future
        self.reply(result, 201 if result["stored"] else 200)


class BundlesHandler(NodeHandler):
    async def get(self):
        self.reply(await self.call(self.node.service.list, self.int_arg("limit", 50),
                                   self.int_arg("offset", 0)))

    async def post(self):
        data = self.body()
        bundle_id, raw = _manifest_args(data, required=True)
        result = await self.call(self.node.service.register_received, bundle_id, raw,
                                 self.actor(data))
        self.reply(result, 200 if result["already_present"] else 201)


class BundleHandler(NodeHandler):
    async def get(self, ref: str):
        self.reply(await self.call(self.node.service.show, ref))


class DeploymentsHandler(NodeHandler):
    async def get(self):
        history = await self.call(self.node.service.history, self.int_arg("limit", 50),
                                  self.int_arg("offset", 0))
        history["runtime"] = self.node.runtime.describe()
        self.reply(history)

    async def post(self):
        data = self.body()
        bundle_id, raw = _manifest_args(data, required=False)
        strict = data.get("strict", False)
        if not isinstance(strict, bool):
            raise InvalidInput("strict must be true or false", field="strict")
        env = data.get("env", "compare")
        if not isinstance(env, str):
            raise InvalidInput("env must be compare or recreate", field="env")
        deployment = await self.call(
            self.node.service.receive_deployment, bundle_id, raw, strict=strict,
            message=_text(data, "message"), actor=self.actor(data), env=env,
            details={"token": self.token_name, "client": self.request.remote_ip})
        deployment["runtime"] = await self.call(self.node.runtime.sync)
        self.reply(deployment, 201)


class VerifyHandler(NodeHandler):
    async def get(self, deployment_id: str | None = None):
        self.reply(await self.call(self.node.service.verify_deployment,
                                   _id(deployment_id, "deployment") if deployment_id else None))


class RollbackHandler(NodeHandler):
    async def post(self):
        data = self.body()
        to = data.get("to")
        if to is not None and not isinstance(to, str):
            raise InvalidInput("to must be a bundle id", field="to")
        deployment = await self.call(
            self.node.service.rollback_here, to, message=_text(data, "message"),
            actor=self.actor(data), strict=bool(data.get("strict", False)),
            details={"token": self.token_name, "client": self.request.remote_ip})
        deployment["runtime"] = await self.call(self.node.runtime.sync)
        self.reply(deployment, 201)


class AuditHandler(NodeHandler):
    async def get(self):
        self.reply(await self.call(self.node.service.audit, self.int_arg("limit", 100),
                                   self.int_arg("offset", 0),
                                   action=self.get_argument("action", None)))


class RunsHandler(NodeHandler):
    """Run the active bundle's pipeline now (a manual trigger), and read its runs."""

    async def get(self):
        project = self.node.runtime.require_project()
        self.reply(await self.call(project.list_runs, self.int_arg("limit", 50),
                                   self.int_arg("offset", 0)))

    async def post(self):
        data = self.body()
        project = self.node.runtime.require_project()
        run = await self.call(project.start_run, steps=data.get("steps"),
                              from_step=data.get("from"), parameters=data.get("parameters"),
                              force=data.get("force", False), trigger="node")
        self.reply(run, 201)


class RunHandler(NodeHandler):
    async def get(self, run_id: str):
        project = self.node.runtime.require_project()
        self.reply(await self.call(project.get_run, _id(run_id, "run")))


def _id(text: str, what: str) -> int:
    """A numeric id from the path; one beyond any stored id is simply not there."""
    value = int(text)
    if value > _MAX_ID:
        raise NotFound(f"no {what} {text}", field="id")
    return value


def _manifest_args(data: dict, *, required: bool) -> tuple[str, bytes | None]:
    bundle_id = data.get("bundle_id")
    if not isinstance(bundle_id, str) or not bundle_id:
        raise InvalidInput("bundle_id is required", field="bundle_id")
    manifest = data.get("manifest")
    if manifest is None and not required:
        return bundle_id, None
    if not isinstance(manifest, str):
        raise InvalidInput("manifest must be the bundle's manifest as a JSON string (its exact "
                           "bytes are hashed)", field="manifest")
    return bundle_id, manifest.encode("utf-8")


def _text(data: dict, key: str) -> str:
    value = data.get(key) or ""
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be text", field=key)
    return value


SHA = r"([0-9a-f]{64})"
ROUTES = [
    (r"/api/node/health", HealthHandler),
    (r"/api/node/environment", EnvironmentHandler),
    (r"/api/node/blobs/missing", MissingBlobsHandler),
    (rf"/api/node/blobs/{SHA}", BlobHandler),
    (r"/api/node/bundles", BundlesHandler),
    (r"/api/node/bundles/([0-9a-fA-F]{4,64}|latest)", BundleHandler),
    (r"/api/node/deployments", DeploymentsHandler),
    (r"/api/node/deployments/active/verify", VerifyHandler),
    (r"/api/node/deployments/([0-9]+)/verify", VerifyHandler),
    (r"/api/node/rollback", RollbackHandler),
    (r"/api/node/audit", AuditHandler),
    (r"/api/node/runs", RunsHandler),
    (r"/api/node/runs/([0-9]+)", RunHandler),
]
