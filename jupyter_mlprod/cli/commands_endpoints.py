"""Serving: endpoints from scoring notebooks.

    mlprod serve [TARGET ...] [--port 8000] [--workers N] [--host H]
                 TARGET: a notebook (NAME.ipynb: "serve this notebook"), an endpoint name, or
                 a bundle folder (its scoring notebooks); none = every endpoint. Foreground
                 until Ctrl-C / SIGTERM (graceful).
    mlprod endpoint list | show NAME | create NAME [--notebook NB] | delete NAME
    mlprod endpoint versions NAME [--add NOTEBOOK [--version V] [--activate]]
    mlprod endpoint traffic NAME [V=WEIGHT ...] [--shadow V] [--sticky-header H]
    mlprod endpoint promote NAME VERSION | rollback NAME
    mlprod endpoint keys NAME [--create [--label L] | --revoke KEY_ID]
    mlprod endpoint score TARGET [REQUEST_JSON | --file F]   (through the scoring cell, here)
    mlprod endpoint servers | stop SERVER_ID
    mlprod endpoints                       (= mlprod endpoint list)

The argument builders here are shared with the `%mlprod` magic."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InvalidInput
from .output import text_table
from .output_endpoints import (ENDPOINT_HEADERS, HISTORY_HEADERS, KEY_HEADERS, SERVER_HEADERS,
                               VERSION_HEADERS, endpoint_lines, endpoint_rows, history_rows,
                               key_rows, score_lines, server_rows, version_rows)


# -- argument builders (CLI and magic) --------------------------------------------------------
def args_serve(p, default_port: int = 8000) -> None:
    p.add_argument("targets", nargs="*", metavar="TARGET",
                   help="a notebook (.ipynb), an endpoint name or a bundle folder "
                        "(default: every endpoint of the project)")
    p.add_argument("--port", type=int, default=default_port,
                   help=f"port (default {default_port}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; beyond loopback every endpoint "
                        "needs an API key)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes sharing the port (default: one per core)")
    p.add_argument("--name", help="endpoint name for a notebook (default: the notebook's name)")
    p.add_argument("--kg-root", action="store_true",
                   help="serve one Kernel Gateway notebook's routes at the root, as Kernel "
                        "Gateway does (they stay under /<endpoint>/ too)")


def args_name(p) -> None:
    p.add_argument("name", metavar="NAME", help="endpoint name")


def args_create(p) -> None:
    args_name(p)
    p.add_argument("--notebook", metavar="NOTEBOOK",
                   help="project-relative scoring notebook: its first version")
    p.add_argument("--description", default="")


def args_versions(p) -> None:
    args_name(p)
    p.add_argument("--add", metavar="NOTEBOOK",
                   help="add a version from this notebook's current cells")
    p.add_argument("--version", help="the new version's label (default v<N>)")
    p.add_argument("--activate", action="store_true",
                   help="move all traffic to the new version (warm first)")


def args_traffic(p) -> None:
    args_name(p)
    p.add_argument("weights", nargs="*", metavar="VERSION=WEIGHT",
                   help="set the split, e.g. v1=90 v2=10 (none: show the split and history)")
    p.add_argument("--shadow", metavar="VERSION", help="a version that gets a copy of the "
                   "traffic; its answers are logged, never returned")
    p.add_argument("--sticky-header", metavar="HEADER",
                   help="route by this request header's value (same value, same version)")


def args_promote(p) -> None:
    args_name(p)
    p.add_argument("version", metavar="VERSION")


def args_keys(p) -> None:
    args_name(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--create", action="store_true",
                       help="create a key (printed once; the store keeps its hash)")
    which.add_argument("--revoke", metavar="KEY_ID", help="revoke a key")
    p.add_argument("--label", default="", help="what the new key is for")


def args_score(p) -> None:
    p.add_argument("target", metavar="TARGET", help="endpoint name or notebook (.ipynb)")
    p.add_argument("request", nargs="?", metavar="REQUEST_JSON",
                   help="the JSON request (default: the sample request)")
    p.add_argument("--file", metavar="FILE", help="read the JSON request from this file")
    p.add_argument("--version", help="score with this version (default: the primary one)")


def args_stop(p) -> None:
    p.add_argument("server_id", metavar="SERVER_ID")


def parse_weights(items: list[str]) -> dict:
    weights = {}
    for item in items:
        version, sep, value = item.partition("=")
        if not sep or not version:
            raise InvalidInput(f"traffic weights are VERSION=WEIGHT, got {item!r}",
                               field="weights")
        try:
            number = float(value)
        except ValueError:
            raise InvalidInput(f"the weight of {version} must be a number, got {value!r}",
                               field=f"weights.{version}") from None
        weights[version] = int(number) if number.is_integer() else number
    return weights


def read_request(ns, service):
    """The request of `endpoint score`: the argument, the file or the target's sample."""
    if ns.request is not None and ns.file:
        raise InvalidInput("give the request or --file, not both", field="request")
    if ns.file:
        try:
            text = Path(ns.file).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read {ns.file}: {exc.strerror}", field="file") from None
    elif ns.request is not None:
        text = ns.request
    else:
        sample = service.sample(ns.target, version=ns.version)
        if sample is None:
            raise InvalidInput(f"{ns.target} has no sample request: give one", field="request")
        return sample
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the request is not valid JSON: {exc}", field="request") from None


def check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise InvalidInput(f"--port must be from 0 to 65535, got {port}", field="port")


def check_workers(workers: int | None) -> None:
    if workers is not None and workers < 1:
        raise InvalidInput(f"--workers must be at least 1, got {workers}", field="workers")


def serve_targets(service, targets: list[str], name: str | None) -> list[str] | None:
    """Endpoint names to serve for the command's TARGETs (None: every endpoint): a notebook
    gets an endpoint with its current cells, a bundle folder's scoring notebooks are deployed."""
    if not targets:
        return None
    names: list[str] = []
    if name and not (len(targets) == 1 and targets[0].endswith(".ipynb")):
        raise InvalidInput("--name applies to one notebook target", field="name")
    for target in targets:
        if target.endswith(".ipynb"):
            local = Path(target).expanduser()  # relative to here if it is here, else the project
            path = str(local.resolve()) if local.exists() else target
            names.append(service.ensure_notebook_endpoint(path, name=name)["name"])
        elif Path(target).expanduser().is_dir():
            switched = service.deploy_bundle(target)
            if not switched:
                raise InvalidInput(f"the folder {target} has no scoring notebook (a cell tagged "
                                   "mlprod-score)", field="target")
            names.extend(view["name"] for view in switched)
        else:
            names.append(service.get(target)["name"])
    return list(dict.fromkeys(names))


# -- registration -----------------------------------------------------------------------------
def register(command, sub, common) -> None:
    args_serve(command("serve", cmd_serve, "serve notebooks' scoring cells as HTTP endpoints "
                       "in the foreground (Ctrl-C or SIGTERM stops it gracefully)"))
    group = sub.add_parser("endpoint", parents=[common],
                           help="endpoints (a notebook's scoring cell over HTTP): list, show, "
                                "create, delete, versions, traffic, promote, rollback, keys, "
                                "score, servers, stop",
                           description="Endpoints: a scoring cell served over HTTP, with "
                                       "versions, a traffic split and API keys.")
    actions = group.add_subparsers(dest="action", metavar="ACTION", parser_class=type(group))
    actions.required = True
    command("list", cmd_list, "list endpoints", parent=actions)
    args_name(command("show", cmd_show, "one endpoint", parent=actions))
    args_create(command("create", cmd_create, "create an endpoint (from a notebook)",
                        parent=actions))
    args_name(command("delete", cmd_delete, "delete an endpoint", parent=actions))
    args_versions(command("versions", cmd_versions, "an endpoint's versions; --add one",
                          parent=actions))
    args_traffic(command("traffic", cmd_traffic, "show or set the traffic split",
                         parent=actions))
    args_promote(command("promote", cmd_promote, "all traffic to one version", parent=actions))
    args_name(command("rollback", cmd_rollback, "back to the previous traffic", parent=actions))
    args_keys(command("keys", cmd_keys, "list, create or revoke API keys", parent=actions))
    args_score(command("score", cmd_score, "score a request through the scoring cell here, "
                       "exactly as the server would", parent=actions))
    command("servers", cmd_servers, "serving processes of this project that are up",
            parent=actions)
    args_stop(command("stop", cmd_stop, "stop a server on this machine", parent=actions))
    command("endpoints", cmd_list, "list endpoints (= mlprod endpoint list)")


# -- commands ---------------------------------------------------------------------------------
def cmd_serve(ctx) -> int:
    ns = ctx.ns
    check_port(ns.port)
    check_workers(ns.workers)
    service = ctx.project.endpoints
    names = serve_targets(service, ns.targets, ns.name)
    shown = ", ".join(names) if names else "every endpoint"
    ctx.err(f"mlprod serve: {shown} on http://{ns.host}:{ns.port} (Ctrl-C or SIGTERM stops it)")
    ctx.stderr.flush()
    code = service.run(names, host=ns.host, port=ns.port, workers=ns.workers,
                       kg_root=ns.kg_root)
    ctx.err("mlprod serve: stopped" if code == 0 else f"mlprod serve: exited with status {code}")
    return code


def cmd_list(ctx) -> int:
    endpoints = ctx.project.endpoints.list()
    text = text_table(ENDPOINT_HEADERS, endpoint_rows(endpoints)) if endpoints else \
        "no endpoints: `mlprod endpoint create NAME --notebook NB` or `mlprod serve NB` makes one"
    ctx.emit(endpoints, text)
    return 0


def cmd_show(ctx) -> int:
    view = ctx.project.endpoints.get(ctx.ns.name)
    ctx.emit(view, "\n".join(endpoint_lines(view) + [""] + text_table(
        VERSION_HEADERS, version_rows(view["versions"])).splitlines()))
    return 0


def cmd_create(ctx) -> int:
    ns = ctx.ns
    view = ctx.project.endpoints.create(ns.name, notebook=ns.notebook, description=ns.description)
    ctx.emit(view, "\n".join(["created " + endpoint_lines(view)[0]] + endpoint_lines(view)[1:]))
    return 0


def cmd_delete(ctx) -> int:
    ctx.project.endpoints.delete(ctx.ns.name)
    ctx.emit({"deleted": ctx.ns.name}, f"deleted endpoint {ctx.ns.name}")
    return 0


def cmd_versions(ctx) -> int:
    ns = ctx.ns
    service = ctx.project.endpoints
    if ns.add:
        added = service.add_version(ns.name, notebook=ns.add, version=ns.version,
                                    activate=True if ns.activate else None)
        ctx.emit(added, f"added version {added['version']} of {ns.name}"
                 + (" (taking all traffic)" if added["weight"] else ""))
        return 0
    if ns.version or ns.activate:
        raise InvalidInput("--version and --activate go with --add", field="add")
    versions = service.versions(ns.name)
    ctx.emit(versions, text_table(VERSION_HEADERS, version_rows(versions)))
    return 0


def cmd_traffic(ctx) -> int:
    ns = ctx.ns
    service = ctx.project.endpoints
    if ns.weights:
        view = service.set_traffic(ns.name, parse_weights(ns.weights), shadow=ns.shadow,
                                   sticky_header=ns.sticky_header, reason="set from the CLI")
        ctx.emit(view["traffic"], endpoint_lines(view)[1].strip())
        return 0
    if ns.shadow or ns.sticky_header:
        raise InvalidInput("give the weights (VERSION=WEIGHT ...) with --shadow/--sticky-header",
                           field="weights")
    history = service.traffic_history(ns.name)
    ctx.emit(history, text_table(HISTORY_HEADERS, history_rows(history)))
    return 0


def cmd_promote(ctx) -> int:
    view = ctx.project.endpoints.promote(ctx.ns.name, ctx.ns.version)
    ctx.emit(view["traffic"], endpoint_lines(view)[1].strip())
    return 0


def cmd_rollback(ctx) -> int:
    view = ctx.project.endpoints.rollback(ctx.ns.name)
    ctx.emit(view["traffic"], "rolled back: " + endpoint_lines(view)[1].strip())
    return 0


def cmd_keys(ctx) -> int:
    ns = ctx.ns
    service = ctx.project.endpoints
    if ns.create:
        key = service.create_key(ns.name, ns.label)
        ctx.emit(key, f"key {key['key_id']} for {ns.name} (shown once; send it as "
                      f"`Authorization: Bearer <key>`):\n{key['key']}")
        return 0
    if ns.label:
        raise InvalidInput("--label goes with --create", field="label")
    if ns.revoke:
        key = service.revoke_key(ns.name, ns.revoke)
        ctx.emit(key, f"revoked key {key['key_id']} of {ns.name}")
        return 0
    keys = service.list_keys(ns.name)
    ctx.emit(keys, text_table(KEY_HEADERS, key_rows(keys)) if keys else
             f"{ns.name} has no API keys: `mlprod endpoint keys {ns.name} --create` makes one")
    return 0


def cmd_score(ctx) -> int:
    ns = ctx.ns
    service = ctx.project.endpoints
    result = service.score(ns.target, read_request(ns, service), version=ns.version)
    ctx.emit(result, "\n".join(score_lines(result)))
    return 0 if result["status"] < 400 else 1


def cmd_servers(ctx) -> int:
    servers = ctx.project.endpoints.servers()
    ctx.emit(servers, text_table(SERVER_HEADERS, server_rows(servers)) if servers else
             "no servers are up: `mlprod serve` starts one")
    return 0


def cmd_stop(ctx) -> int:
    ctx.project.endpoints.stop_server(ctx.ns.server_id)
    ctx.emit({"stopped": ctx.ns.server_id}, f"stopped server {ctx.ns.server_id}")
    return 0
