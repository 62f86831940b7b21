"""HTTP for Kernel Gateway notebooks: their routes first, then our built-ins, then KG's 404.

Under `/<endpoint>/...` always; at the root too when the server was started with `--kg-root`
(one Kernel Gateway notebook served where KG would serve it). A user's route wins over every
built-in (`/:id` is theirs, `/ping` and `/openapi.json` only when no route takes them).
"""
from __future__ import annotations

import json
import time

from . import kg_compat
from .engine import to_json

JSON = "application/json"
SWAGGER = "/_api/spec/swagger.json"
_REASONS = {404: "Not Found", 405: "Method Not Allowed"}


def serve(app, ex, rt, subpath: str, at_root: bool = False) -> bool:
    """Answer `ex` if a route (or KG's swagger path) of the endpoint takes it. At the root a
    miss returns False (the server's own paths may take it); under the endpoint a miss tries
    our built-ins, then answers KG's 404 / 405."""
    version = rt.router.pick(ex.headers)
    route, found = kg_compat.match(version.routes, ex.method, subpath)
    if route is not None:
        _answer(app, ex, rt, version, route, found)
        return True
    if subpath == SWAGGER and ex.method == "GET":
        app._send(ex, 200, json.dumps(swagger(version)).encode(), JSON)
        return True
    if found:  # the path exists with other methods: KG answers 405 with no body
        app._send(ex, 405, b"", "text/plain", {"Allow": ", ".join(found)})
        return True
    if at_root:
        return False
    if ex.method == "GET" and subpath in ("/", "/openapi.json", "/ping", "/health"):
        return False  # our built-ins, when no route of the notebook takes the path
    not_found(app, ex)
    return True


def not_found(app, ex) -> None:
    """Kernel Gateway's 404 body."""
    app._send(ex, 404, to_json({"reason": "Not Found", "message": ""}), JSON)


def _answer(app, ex, rt, version, route, params) -> None:
    status, headers, text = kg_compat.run(version, route, kg_compat.request_text(ex, params))
    headers["X-Mlprod-Version"] = version.version
    content_type = headers.pop("Content-Type")
    app._send(ex, status, text.encode("utf-8"), content_type, headers)
    app.metrics.observe(rt.name, version.version, status, time.perf_counter() - ex.started)
    if status >= 500:
        app.metrics.error(rt.name, version.version, "scoring")


def swagger(version) -> dict:
    """What KG serves at /_api/spec/swagger.json."""
    title = version.spec.notebook.rsplit("/", 1)[-1]
    title = title.split(".")[0] if title.find(".") > 0 else title
    paths: dict = {}
    for route in version.spec.routes:
        paths.setdefault(route.path, {})[route.method.lower()] = {
            "responses": {"200": {"description": "Success"}}}
    return {"swagger": "2.0", "info": {"version": "0.0.0", "title": title}, "paths": paths}
