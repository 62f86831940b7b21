"""The HTTP server: a tornado HTTPServer with one lean message delegate (no RequestHandler
machinery per request). Scoring runs inline on the event loop; timeouts interrupt it.

Routes
  POST /<endpoint>/predict        the scoring cell's answer (a list body on a batching endpoint
                                  scores each record and answers a list)
  POST /<endpoint>/invocations    MLflow scoring-server payloads -> {"predictions": [...]}
  POST /<endpoint>/feedback       the true label of a logged prediction (see feedback.py)
  GET  /<endpoint>/openapi.json   generated OpenAPI document
  GET  /<endpoint>                versions, traffic, input schema and sample
  ANY  /<endpoint>/<route>        Kernel Gateway notebooks: their `# METHOD /route` cells, before
                                  any built-in path (kg_routes.py); at the root too with --kg-root
  GET  /<endpoint>/ping|health|version   MLflow scoring-server companions
  GET  /health  /ready  /metrics  liveness, readiness (503 until every endpoint is warm),
                                  Prometheus
"""
from __future__ import annotations

import hmac
import itertools
import json
import logging
import os
import secrets
import time

from tornado import httputil

from ..errors import InvalidInput
from ..jsonbody import is_json_type, parse_json
from . import calls, feedback, kg_routes
from .batching import Batcher
from .config import MAX_BODY_LIMIT
from .engine import to_json
from .keys import hash_key, is_loopback, key_from_headers

log = logging.getLogger("jupyter_mlprod.serving")
JSON = "application/json"
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Payload Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error",
            503: "Service Unavailable", 504: "Gateway Timeout"}
DEFAULT_MAX_BODY = 1 << 20
DISCARD_LIMIT = 1 << 30  # beyond this an oversized body is refused without reading it


class ServingApp(httputil.HTTPServerConnectionDelegate):
    def __init__(self, state, metrics, predlog, loop, internal_hash: str | None = None):
        self.state = state  # .endpoints: name -> EndpointRuntime; .ready: bool
        self.metrics = metrics
        self.predlog = predlog
        self.loop = loop
        self.internal_hash = internal_hash
        self._ids = itertools.count(1)
        self._id_prefix = f"{os.getpid():x}-{secrets.token_hex(2)}-"

    def start_request(self, server_conn, request_conn):
        return _Exchange(self, request_conn)

    # -- dispatch -------------------------------------------------------------------------
    def dispatch(self, ex: "_Exchange") -> None:
        path = ex.path
        parts = path.split("/", 2)
        name = parts[1] if len(parts) > 1 else ""
        rest = parts[2] if len(parts) > 2 else None
        rt = self.state.endpoints.get(name)
        kg_root = self.state.kg_root and self.state.endpoints.get(self.state.kg_root)
        if kg_root:  # --kg-root: the notebook's own routes win over every path of ours
            if ex.rejected:
                return self._error(ex, 413, "too_large", "request body over "
                                   f"{DEFAULT_MAX_BODY if rt is None else rt.max_body} bytes",
                                   kg_root.name, "")
            if (not kg_root.needs_key or self._authorized(kg_root, ex.headers)) and \
                    kg_routes.serve(self, ex, kg_root, path, at_root=True):
                return None
        if rt is None:
            if rest is None and ex.method == "GET" and name in ("health", "ready", "metrics"):
                return getattr(self, "_" + name)(ex)
            if kg_root:
                return kg_routes.not_found(self, ex)
            return self._error(ex, 404, "not_found", f"no endpoint or route at {path}", name, "")
        if rt.needs_key and not self._authorized(rt, ex.headers):
            self.metrics.error(name, "", "unauthorized")
            return self._error(ex, 401, "unauthorized", "a valid API key is required "
                               "(Authorization: Bearer <key> or X-API-Key)", name, "",
                               {"WWW-Authenticate": 'Bearer realm="mlprod"'})
        if ex.rejected:
            self.metrics.error(name, "", "too_large")
            return self._error(ex, 413, "too_large", f"request body over {rt.max_body} bytes",
                               name, "")
        if rt.primary.spec.mode == "kernel_gateway" and \
                kg_routes.serve(self, ex, rt, "/" + (rest or "")):
            return None
        if rest == "feedback":
            return feedback.handle(self, ex, rt)
        if rest == "predict" or rest == "invocations":
            if ex.method != "POST":
                return self._error(ex, 405, "method_not_allowed", f"use POST for {path}", name,
                                   "", {"Allow": "POST"})
            version = rt.router.pick(ex.headers)
            if rest == "invocations":
                return self._invocations(ex, rt, version)
            content_type = ex.headers.get("Content-Type")
            if not is_json_type(content_type):
                self.metrics.error(name, version.version, "invalid")
                return self._error(ex, 415, "unsupported_media_type",
                                   f"send application/json, not {content_type}", name,
                                   version.version)
            return self._predict(ex, rt, version)
        elif rest == "openapi.json" and ex.method == "GET":
            from .openapi import build_openapi

            doc = build_openapi(name, rt.primary, rt.needs_key)
            return self._send(ex, 200, to_json(doc), JSON)
        elif (rest is None or rest == "") and ex.method == "GET":
            return self._send(ex, 200, to_json(_info(rt)), JSON)
        elif rest in ("ping", "health") and ex.method == "GET":  # MLflow scoring-server liveness
            return self._send(ex, 200, b"\n", "application/json")
        elif rest == "version" and ex.method == "GET":  # MLflow answers its package version
            from .mlflow_compat import server_version

            return self._send(ex, 200, server_version(), "text/plain")
        return self._error(ex, 404, "not_found", f"no route {ex.method} {ex.path}", rt.name,
                           rt.primary.version)

    def _authorized(self, rt, headers) -> bool:
        key = key_from_headers(headers)
        if not key:
            return False
        digest = hash_key(key)
        if digest in rt.key_hashes:
            return True
        return self.internal_hash is not None and hmac.compare_digest(digest, self.internal_hash)

    # -- scoring --------------------------------------------------------------------------
    def _predict(self, ex, rt, version) -> None:
        try:  # the one parser: nesting capped, finite numbers only (400 naming the field)
            request = parse_json(ex.body)
        except InvalidInput as exc:
            return self._finish(ex, rt, version, calls.invalid(exc))
        if not version.batching:
            return self._finish(ex, rt, version, calls.predict(version, request, rt.options["debug"]))
        if isinstance(request, list):
            return self._finish(ex, rt, version,
                                calls.predict_records(version, request, rt.options["debug"], False))
        try:
            version.validator.validate(request)
        except InvalidInput as exc:
            return self._finish(ex, rt, version, calls.invalid(exc))
        batcher = version.__dict__.get("batcher")
        if batcher is None:
            batcher = version.batcher = Batcher(
                version, self.loop.asyncio_loop,
                self.metrics.batch_size.labels(rt.name, version.version).observe)

        def done(result, error):
            if error is None:
                outcome = calls.answer(result, version, rt.options["debug"])
            else:
                outcome = calls.failed(error, version, rt.options["debug"], request)
            self._finish(ex, rt, version, outcome)

        batcher.submit(request, done)

    def _invocations(self, ex, rt, version) -> None:
        from .mlflow_compat import invocations

        outcome = invocations(version, ex.body, ex.headers.get("Content-Type"),
                              rt.options["debug"])
        if outcome.status == 415:  # MLflow answers these in plain text
            self.metrics.error(rt.name, version.version, "invalid")
            return self._send(ex, 415, outcome.body, "text/plain")
        self._finish(ex, rt, version, outcome)

    def _finish(self, ex, rt, version, outcome) -> None:
        request_id = ex.request_id or self._id_prefix + format(next(self._ids), "x")
        headers = {"X-Mlprod-Version": version.version, "X-Request-Id": request_id}
        prediction_id = feedback.prediction_id(self, ex, rt, version, outcome, request_id,
                                               headers)
        self._send(ex, outcome.status, outcome.body, JSON, headers)
        elapsed = time.perf_counter() - ex.started
        self.metrics.observe(rt.name, version.version, outcome.status, elapsed)
        if outcome.kind is not None:
            self.metrics.error(rt.name, version.version, outcome.kind)
        if prediction_id is not None:   # logging on, and this answer sampled
            self.predlog.record(rt.id, version.version, False, elapsed * 1000, outcome.status,
                                request_id, ex.body, outcome.body if outcome.status == 200 else None,
                                outcome.error, rt.redact, prediction_id=prediction_id,
                                endpoint=rt.name, policy=rt.log_policy)
        if rt.shadow is not None and outcome.status < 500:
            self.loop.add_callback(self._shadow, rt, ex.path.rsplit("/", 1)[-1], ex.body,
                                   ex.headers.get("Content-Type", JSON), outcome, request_id)

    def _shadow(self, rt, action, body, content_type, primary, request_id) -> None:
        version = rt.shadow
        started = time.perf_counter()
        try:
            if action == "invocations":
                outcome = calls.score_in_process(version, body, False, "invocations", content_type)
            else:
                outcome = calls.score_in_process(version, json.loads(body), False)
        except Exception as exc:  # noqa: BLE001 - a shadow never affects anyone
            outcome = calls.failed(exc, version, False)
        elapsed = time.perf_counter() - started
        matches = None
        if outcome.status == 200 and primary.status == 200:
            matches = outcome.json() == primary.json()
        kind = "error" if outcome.status >= 500 else ("match" if matches else "differ")
        self.metrics.shadow.labels(rt.name, version.version, kind).inc()
        if rt.id is not None:
            self.predlog.record(rt.id, version.version, True, elapsed * 1000, outcome.status,
                                request_id, body if rt.log_inputs else None,
                                outcome.body if outcome.status == 200 else None, outcome.error,
                                rt.redact, matches)

    # -- built-in routes ------------------------------------------------------------------
    def _health(self, ex) -> None:
        self._send(ex, 200, to_json({"status": "ok", "pid": os.getpid()}), JSON)

    def _ready(self, ex) -> None:
        ready = self.state.ready
        body = {"status": "ready" if ready else "starting", "pid": os.getpid()}
        if is_loopback(getattr(getattr(ex.conn, "context", None), "remote_ip", "") or ""):
            # versions, traffic and digests only for this machine's eyes
            body["endpoints"] = {n: rt.describe() for n, rt in self.state.endpoints.items()}
        self._send(ex, 200 if ready else 503, to_json(body), JSON)

    def _metrics(self, ex) -> None:
        body, content_type = self.metrics.render()
        self._send(ex, 200, body, content_type)

    # -- writing --------------------------------------------------------------------------
    def _error(self, ex, status, code, message, endpoint, version, headers=None) -> None:
        self._send(ex, status, to_json({"error": {"code": code, "message": message,
                                                  "field": None}}), JSON, headers)
        if endpoint in self.state.endpoints:
            self.metrics.observe(endpoint, version, status, time.perf_counter() - ex.started)

    @staticmethod
    def _send(ex, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        if ex.closed:
            return
        headers = httputil.HTTPHeaders()
        headers["Content-Type"] = content_type
        headers["Content-Length"] = str(len(body))
        if extra:
            for key, value in extra.items():
                headers[key] = value
        if ex.rejected:
            headers["Connection"] = "close"
        conn = ex.conn
        try:
            conn.write_headers(httputil.ResponseStartLine("HTTP/1.1", status,
                                                          _REASONS.get(status, "Unknown")),
                               headers, body)
            conn.finish()
        except ValueError as exc:  # a header a Kernel Gateway cell printed cannot be sent
            if extra:
                body = to_json({"error": {"code": "bad_header", "message": str(exc)}})
                ServingApp._send(ex, 500, body, JSON)
            else:
                ex.closed = True
        except Exception:  # noqa: BLE001 - the client went away
            ex.closed = True


class _Exchange(httputil.HTTPMessageDelegate):
    __slots__ = ("app", "conn", "method", "path", "query", "headers", "chunks", "size", "limit",
                 "rejected", "started", "closed", "body", "request_id")

    def __init__(self, app: ServingApp, conn):
        self.app = app
        self.conn = conn
        self.chunks: list = []
        self.size = 0
        self.rejected = False
        self.closed = False
        self.body = b""

    def headers_received(self, start_line, headers):
        self.started = time.perf_counter()
        self.method = start_line.method
        path, _, self.query = start_line.path.partition("?")
        self.path = path
        self.headers = headers
        request_id = headers.get("X-Request-Id")
        self.request_id = request_id if request_id and len(request_id) <= 64 else None
        name = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        rt = self.app.state.endpoints.get(name)
        self.limit = rt.max_body if rt is not None else DEFAULT_MAX_BODY
        length = headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            self.rejected = True
            self.conn.set_max_body_size(min(int(length), DISCARD_LIMIT))
        return None

    def data_received(self, chunk):
        if self.rejected:
            return None  # read and discarded, so the client sees the 413 instead of a reset
        self.size += len(chunk)
        if self.size > self.limit:
            self.rejected = True
            self.chunks = []
            return None
        self.chunks.append(chunk)
        return None

    def finish(self):
        if not self.rejected:
            chunks = self.chunks
            self.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            self.app.dispatch(self)
        except Exception:  # noqa: BLE001 - a bug here must not take the connection down silently
            log.exception("unexpected error answering %s %s", self.method, self.path)
            self.app._send(self, 500, to_json({"error": {"code": "internal", "message":
                                                         "internal server error"}}), JSON)

    def on_connection_close(self):
        self.closed = True


def _info(rt) -> dict:
    from .notebook_cells import MISSING

    primary = rt.primary
    return {"name": rt.name, "revision": rt.revision, "traffic": rt.traffic,
            "versions": {n: {"mode": v.spec.mode, "notebook": v.spec.notebook,
                             "batching": v.batching} for n, v in rt.versions.items()},
            "input_schema": primary.schema,
            "sample": None if primary.sample is MISSING else primary.sample}


def max_body_size() -> int:
    return max(MAX_BODY_LIMIT, DISCARD_LIMIT)
