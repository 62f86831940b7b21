"""Kernel Gateway notebook-http semantics, run in this process (no kernel, no round trip).

What a KG kernel does, and what we do instead:
- The notebook's globals are the kernel's namespace: route cells run in it, so `PUT /message`
  then `GET /message` sees the new value. Each worker process holds one namespace, as each kernel
  of KG's pool does; a worker runs one request at a time (scoring runs inline on its event loop),
  so requests never interleave in a namespace. Concurrency comes from workers.
- `REQUEST` is assigned in the namespace before the route's cells run; a `# ResponseInfo` cell
  runs after them, in the same namespace, and prints `{"status": ..., "headers": {...}}`.
- The body is what the cells printed on stdout, else the last expression's value as the
  execute_result bundle (`{"text/plain": "2"}`), else empty. An exception gives 500 with KG's
  body `Error <Name>: <value> \\n`; a route cell that does not compile gives that on every call of
  its route only.
- `KERNEL_GATEWAY=1` is set; `!shell` lines in setup cells run (their output goes to the log), a
  magic we cannot run is skipped with a logged reason.
- No scoring timeout unless the endpoint sets `kg_timeout_ms`.
"""
from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
from urllib.parse import parse_qs, unquote

from tornado import httputil

from .deadline import ScoringTimeout
from .notebook_cells import Route, route_regex

log = logging.getLogger("jupyter_mlprod.serving")
TEXT = "text/plain"


class KGRoute:
    __slots__ = ("method", "path", "regex", "names", "body", "last", "info", "error")

    def __init__(self, method, path, regex, names, body, last, info, error):
        self.method, self.path, self.regex, self.names = method, path, regex, names
        self.body, self.last, self.info, self.error = body, last, info, error


def compile_routes(version) -> list[KGRoute]:
    """The version's routes, static paths before parameterised ones (KG's order)."""
    routes = [_compile_route(version, route) for route in version.spec.routes]
    routes.sort(key=lambda r: _first_param_depth(r.path), reverse=True)
    return routes


def _first_param_depth(path: str) -> int:
    return path.count("/", 0, path.find(":")) - 1 if ":" in path else sys.maxsize


def _compile_route(version, route: Route) -> KGRoute:
    from .engine import _transform

    regex, names = route_regex(route.path)
    filename = version._filename(route.cell)
    try:
        tree = ast.parse(_transform(route.cell.source), filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):  # its value is the execute_result
            last = compile(ast.Expression(tree.body.pop().value), filename, "eval")
        body = compile(tree, filename, "exec")
        info = None
        if route.response_info is not None:
            info_name = version._filename(route.response_info)
            info = compile(_transform(route.response_info.source), info_name, "exec")
        error = None
    except SyntaxError as exc:
        body = last = info = None
        error = f"Error SyntaxError: {exc} \n"
        log.error("%s: route %s %s (cell %d) does not compile; it answers 500: %s",
                  version.label, route.method, route.path, route.cell.index, exc)
    return KGRoute(route.method, route.path, regex, names, body, last, info, error)


def match(routes: list[KGRoute], method: str, path: str):
    """(route, path parameters) or (None, [methods the path takes])."""
    allowed = []
    for route in routes:
        found = route.regex.match(path)
        if found:
            if route.method == method:  # tornado decodes path arguments for KG's handler
                return route, {name: unquote(value)
                               for name, value in zip(route.names, found.groups())}
            allowed.append(route.method)
    return None, allowed


def request_text(ex, params: dict) -> str:
    """The JSON string KG assigns to `REQUEST`."""
    return json.dumps({"body": _body(ex), "args": parse_qs(ex.query, keep_blank_values=True),
                       "path": params, "headers": _headers(ex.headers)})


def _body(ex):
    content_type = ex.headers.get("Content-Type", TEXT)
    text = ex.body.decode("utf-8", "replace") if ex.body else ""
    if content_type == "application/x-www-form-urlencoded" or \
            content_type.startswith("multipart/form-data"):
        fields: dict = {}  # tornado's parser, as KG's handler reads `body_arguments`
        httputil.parse_body_arguments(content_type, ex.body, fields, {}, ex.headers)
        return {name: [v.decode("utf-8", "replace") for v in values]
                for name, values in fields.items()}
    if content_type == "application/json":  # KG parses JSON only under this exact type
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _headers(headers) -> dict:
    out: dict = {}
    for name, value in headers.get_all():
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def run(version, route: KGRoute, text: str) -> tuple[int, dict, str]:
    """Run a route in the version's namespace: (status, headers, body)."""
    from .engine import _capture

    if route.error is not None:
        return 500, {"Content-Type": TEXT}, route.error
    ns = version.namespace
    result = []

    def cells(_):
        ns["REQUEST"] = text
        exec(route.body, ns)  # noqa: S102 - running the notebook is the point
        if route.last is not None:
            result.append(eval(route.last, ns))  # noqa: S307

    timeout = version.kg_timeout
    try:
        printed = _capture(version.deadline, cells, None, timeout)
    except ScoringTimeout:
        return 504, {"Content-Type": TEXT}, (f"Error ScoringTimeout: the route ran past the "
                                             f"endpoint's kg_timeout_ms ({timeout:g} s) \n")
    except Exception as exc:  # noqa: BLE001 - KG answers any cell error with 500 and its text
        return 500, {"Content-Type": TEXT}, f"Error {type(exc).__name__}: {exc} \n"
    body = printed
    if not printed and result and result[0] is not None:
        body = json.dumps({"text/plain": repr(result[0])})
    status, headers = 200, {"Content-Type": TEXT}
    if route.info is not None:
        try:
            raw = _capture(version.deadline, lambda _: exec(route.info, ns), None, timeout)  # noqa: S102
            meta = json.loads(raw) if raw.strip() else {}
            headers.update({str(k): str(v) for k, v in (meta.get("headers") or {}).items()})
            status = int(meta.get("status", 200))
        except Exception as exc:  # noqa: BLE001
            return 500, {"Content-Type": TEXT}, (
                f"Error {type(exc).__name__}: the ResponseInfo cell must print a JSON object "
                f'like {{"status": 201, "headers": {{...}}}} ({exc}) \n')
    return status, headers, body


def prepare_environment() -> None:
    """What a KG kernel sees: notebooks guard client-only cells with it."""
    os.environ["KERNEL_GATEWAY"] = "1"


class KGShell:
    """`get_ipython()` for a Kernel Gateway notebook's setup: `!commands` run (a kernel would run
    them; output to the log), display magics do nothing, other magics are skipped with a logged
    reason instead of stopping the notebook."""

    def system(self, cmd):
        log.info("running setup shell command: %s", cmd)
        done = subprocess.run(cmd, shell=True, capture_output=True, text=True,  # noqa: S602
                              stdin=subprocess.DEVNULL, timeout=600)
        for line in (done.stdout + done.stderr).splitlines()[-20:]:
            log.info("  %s", line)
        if done.returncode:
            log.warning("setup shell command exited with %d: %s", done.returncode, cmd)
        return None

    def getoutput(self, cmd):
        done = subprocess.run(cmd, shell=True, capture_output=True, text=True,  # noqa: S602
                              stdin=subprocess.DEVNULL, timeout=600)
        return done.stdout.splitlines()

    def run_line_magic(self, name, line, _stack_depth=1):
        log.warning("skipping %%%s %s: line magics do not run in a served notebook", name, line)

    def run_cell_magic(self, name, line, cell):
        log.warning("skipping a %%%%%s cell: cell magics do not run in a served notebook", name)


_SHELL = KGShell()


def get_ipython() -> KGShell:
    return _SHELL
