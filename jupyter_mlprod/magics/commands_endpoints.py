"""`%mlprod` serving commands, with the CLI's own argument builders:

    %mlprod serve [TARGET ...] [--port 0] [--workers N] [--host H]
                                        serve in the background (its own process); the view's
                                        `.data` has the url and server_id
    %mlprod endpoints                   endpoints with traffic, keys and servers
    %mlprod endpoint list|show|create|delete|versions|traffic|promote|rollback|keys|score|
                     servers|stop ...   (as `mlprod endpoint ...`)
    %mlprod endpoint test NAME          a request editor with Send (widgets_endpoint.py)

and the cell magic:

    %%mlprod score [ENDPOINT|NOTEBOOK] [--version V] [--path predict|invocations]
    {"age": 35, ...}                    the cell's body is the JSON request (empty: the sample)

which runs the request through the scoring cell exactly as the server would (validation,
timeout, JSON answer) and shows the response, its status and latency."""
from __future__ import annotations

import functools
import json
from html import escape
from pathlib import Path

from ..cli import args as shared
from ..cli import commands_endpoints as cli
from ..cli.output import text_table
from ..cli.output_endpoints import (ENDPOINT_HEADERS, HISTORY_HEADERS, KEY_HEADERS,
                                    SERVER_HEADERS, VERSION_HEADERS, endpoint_lines,
                                    endpoint_rows, history_rows, key_rows, score_line,
                                    server_rows, version_rows)
from ..errors import InvalidInput
from .output import Rich, html_table
from ..words import counted

_PRE = ("font-family:monospace;font-size:12px;margin:2px 0 4px 0;padding:4px 8px;"
        "background:#fafafa;border-left:3px solid #cfd8dc;white-space:pre-wrap")


def add_parsers(sub, common) -> None:
    cli.args_serve(sub.add_parser("serve", parents=[common],
                                  help="serve notebooks or endpoints in the background"),
                   default_port=0)
    sub.add_parser("endpoints", parents=[common], help="endpoints of the project")
    endpoint = sub.add_parser("endpoint", parents=[common], help="endpoint actions")
    actions = endpoint.add_subparsers(dest="action", metavar="ACTION",
                                      parser_class=functools.partial(shared.Parser, exits=False))
    actions.required = True
    actions.add_parser("list", parents=[common], help="list endpoints")
    cli.args_name(actions.add_parser("show", parents=[common], help="one endpoint"))
    cli.args_create(actions.add_parser("create", parents=[common], help="create an endpoint"))
    cli.args_name(actions.add_parser("delete", parents=[common], help="delete an endpoint"))
    cli.args_versions(actions.add_parser("versions", parents=[common], help="versions"))
    cli.args_traffic(actions.add_parser("traffic", parents=[common], help="traffic split"))
    cli.args_promote(actions.add_parser("promote", parents=[common], help="promote a version"))
    cli.args_name(actions.add_parser("rollback", parents=[common], help="previous traffic"))
    cli.args_keys(actions.add_parser("keys", parents=[common], help="API keys"))
    cli.args_score(actions.add_parser("score", parents=[common], help="score a request here"))
    cli.args_name(actions.add_parser("test", parents=[common],
                                     help="a request editor with Send (where widgets are shown); "
                                          "else send the sample request"))
    actions.add_parser("servers", parents=[common], help="servers that are up")
    cli.args_stop(actions.add_parser("stop", parents=[common], help="stop a server"))


def _lines(lines: list[str], data) -> Rich:
    text = "\n".join(lines)
    return Rich(f'<div style="{_PRE}">{escape(text)}</div>', text, data)


def _table(headers, rows, data, empty: str) -> Rich:
    if not rows:
        return Rich(f"<div>{escape(empty)}</div>", empty, data)
    return Rich(html_table(headers, rows), text_table(headers, rows), data)


def score_view(result: dict) -> Rich:
    body = result["body"]
    text = json.dumps(body, indent=2) if not isinstance(body, str) else body
    line = score_line(result)
    colour = "#2e7d32" if result["status"] < 400 else "#c62828"
    html = (f'<div style="{_PRE}">{escape(text)}</div>'
            f'<div style="color:{colour};font-size:12px">{escape(line)}</div>')
    return Rich(html, f"{text}\n{line}", result)


def cmd_serve(magics, ns):
    cli.check_port(ns.port)
    cli.check_workers(ns.workers)
    service = magics._project(ns).endpoints
    targets = [_local(t) for t in ns.targets]
    names = cli.serve_targets(service, targets, ns.name)
    handle = service.serve(names, host=ns.host, port=ns.port, workers=ns.workers,
                           kg_root=ns.kg_root)
    data = handle.to_dict()
    shown = ", ".join(names) if names else "every endpoint"
    return _lines([f"serving {shown} at {data['url']} (server {data['server_id']}, "
                   f"{counted(data['workers'], 'worker')}); `%mlprod endpoint stop {data['server_id']}` "
                   "stops it"], data)


def cmd_endpoints(magics, ns):
    endpoints = magics._project(ns).endpoints.list()
    return _table(ENDPOINT_HEADERS, endpoint_rows(endpoints), endpoints,
                  "no endpoints: %mlprod serve NOTEBOOK.ipynb makes one")


def cmd_endpoint(magics, ns):
    service = magics._project(ns).endpoints
    action = ns.action
    if action == "list":
        return cmd_endpoints(magics, ns)
    if action == "show":
        view = service.get(ns.name)
        return _lines(endpoint_lines(view) + [""] + text_table(
            VERSION_HEADERS, version_rows(view["versions"])).splitlines(), view)
    if action == "create":
        view = service.create(ns.name, notebook=_local(ns.notebook) if ns.notebook else None,
                              description=ns.description)
        return _lines(endpoint_lines(view), view)
    if action == "delete":
        service.delete(ns.name)
        return _lines([f"deleted endpoint {ns.name}"], {"deleted": ns.name})
    if action == "versions":
        if ns.add:
            added = service.add_version(ns.name, notebook=_local(ns.add), version=ns.version,
                                        activate=True if ns.activate else None)
            return _lines([f"added version {added['version']} of {ns.name}"], added)
        versions = service.versions(ns.name)
        return _table(VERSION_HEADERS, version_rows(versions), versions, "no versions")
    if action == "traffic":
        if ns.weights:
            view = service.set_traffic(ns.name, cli.parse_weights(ns.weights), shadow=ns.shadow,
                                       sticky_header=ns.sticky_header, reason="set from a magic")
            return _lines([endpoint_lines(view)[1].strip()], view["traffic"])
        history = service.traffic_history(ns.name)
        return _table(HISTORY_HEADERS, history_rows(history), history, "no traffic yet")
    if action in ("promote", "rollback"):
        view = service.promote(ns.name, ns.version) if action == "promote" else \
            service.rollback(ns.name)
        return _lines([endpoint_lines(view)[1].strip()], view["traffic"])
    if action == "keys":
        if ns.create:
            key = service.create_key(ns.name, ns.label)
            return _lines([f"key {key['key_id']} (shown once):", key["key"]], key)
        if ns.revoke:
            key = service.revoke_key(ns.name, ns.revoke)
            return _lines([f"revoked key {key['key_id']}"], key)
        keys = service.list_keys(ns.name)
        return _table(KEY_HEADERS, key_rows(keys), keys, f"{ns.name} has no API keys")
    if action == "score":
        ns.target = _local(ns.target)
        return score_view(service.score(ns.target, cli.read_request(ns, service),
                                        version=ns.version))
    if action == "test":
        return endpoint_test(magics, ns)
    if action == "servers":
        servers = service.servers()
        return _table(SERVER_HEADERS, server_rows(servers), servers, "no servers are up")
    if action == "stop":
        service.stop_server(ns.server_id)
        return _lines([f"stopped server {ns.server_id}"], {"stopped": ns.server_id})
    raise InvalidInput(f"unknown action {action!r}", field="action")


def endpoint_test(magics, ns):
    """A request editor (widgets_endpoint.py); headless, the sample request sent once, as the
    editor's Send would."""
    from .widgets import use_widgets

    project = magics._project(ns)
    if use_widgets(ns):
        from .widgets_endpoint import EndpointTester

        return EndpointTester(project, ns.name)
    service = project.endpoints
    sample = service.sample(ns.name)
    if sample is None:
        raise InvalidInput(f"{ns.name} has no sample request: send one with "
                           f"%%mlprod score {ns.name}", field="request")
    return score_view(service.test_request(ns.name, sample))


def parse_request(text: str, what: str):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{what} is not a JSON request: {exc}", field="request") from None


def _local(target: str) -> str:
    """A notebook path as the kernel sees it (relative to its working folder) when it exists
    here; else unchanged (project-relative, or an endpoint name)."""
    if isinstance(target, str) and target.endswith(".ipynb"):
        local = Path(target).expanduser()
        if local.exists():
            return str(local.resolve())
    return target


# -- %%mlprod score -----------------------------------------------------------------------------
def _score_parser():
    parser = shared.Parser(prog="%%mlprod score", exits=False,
                           description="Run the cell's JSON request through a scoring cell.")
    shared.add_project_options(parser)
    parser.add_argument("target", nargs="?", metavar="ENDPOINT|NOTEBOOK",
                        help="endpoint name or notebook (default: this notebook)")
    parser.add_argument("--version", help="the endpoint version (default: the primary one)")
    parser.add_argument("--path", default="predict", choices=("predict", "invocations"),
                        help="score as POST /<endpoint>/<path> would")
    return parser


def cell_score(magics, words: list[str], cell: str):
    ns = _score_parser().parse_args(words)
    target = ns.target or _this_notebook(magics)
    if not target:
        raise InvalidInput("name the endpoint or notebook: %%mlprod score ENDPOINT|NOTEBOOK",
                           field="target")
    target = _local(target)
    service = magics._project(ns).endpoints
    if cell.strip():
        request = parse_request(cell, "the cell")
    else:
        request = service.sample(target, version=ns.version)
        if request is None:
            raise InvalidInput(f"{target} has no sample request: write one in the cell",
                               field="request")
    return score_view(service.score(target, request, version=ns.version, path=ns.path))


def _this_notebook(magics) -> str | None:
    session = (magics.shell.user_ns.get("__session__") if magics.shell is not None else None)
    return session if isinstance(session, str) and session.endswith(".ipynb") else None


COMMANDS = {"serve": cmd_serve, "endpoints": cmd_endpoints, "endpoint": cmd_endpoint}
# `%%mlprod NAME ...`: function(magics, words after NAME, cell body)
CELL_COMMANDS = {"score": cell_score}
