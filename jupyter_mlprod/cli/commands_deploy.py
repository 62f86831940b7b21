"""`mlprod deploy`, `rollback`, `deployments`, `nodes` and `node`: the production side
of bundles (registered by commands_bundles)."""
from __future__ import annotations

import errno
import json
import shutil

from ..errors import InvalidInput
from .commands_bundles import token_from
from .output import one_line, text_table
from .output_bundles import (DEPLOYMENT_HEADERS, NODE_HEADERS,
                             deploy_lines, deployment_line, deployment_rows, fmt_size, node_rows)
from ..words import counted


# -- deployments ------------------------------------------------------------------------------
class DeployProgress:
    """One line per phase; on a terminal also a live upload counter rewritten in place."""

    def __init__(self, stream, tty: bool | None = None):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.live = False

    def update(self, event: dict) -> None:
        phase = event.get("phase")
        if phase == "environment":
            if event["ok"]:
                self._line("environment: the target matches the bundle's lock")
            else:
                self._line(f"environment: {counted(len(event['problems']), 'difference')} from the "
                           "bundle's lock")
                for problem in event["problems"]:
                    self._line(f"  - {one_line(problem, 200)}")
        elif phase == "upload" and "done" not in event:
            if event["blobs"]:
                self._line(f"upload: {counted(event['blobs'], 'file content')} the target lacks, "
                           f"{fmt_size(event['bytes'])}")
            else:
                self._line("upload: nothing to send, the target has every file")
        elif phase == "upload" and self.tty:
            width = shutil.get_terminal_size((100, 20)).columns
            text = (f"  {event['done']}/{event['blobs']} sent, {fmt_size(event['sent'])} of "
                    f"{fmt_size(event['bytes'])}")
            self.stream.write("\r\033[K" + text[:max(width - 1, 20)])
            self.stream.flush()
            self.live = True
        elif phase == "activate":
            self._line("activate: writing and verifying the bundle's files, then switching")

    def _line(self, text: str) -> None:
        self.close()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.live = False
        self.stream.flush()


def cmd_deploy(ctx) -> int:
    ns = ctx.ns
    progress = None if ctx.json else DeployProgress(ctx.stdout)
    try:
        result = ctx.project.bundles.deploy(ns.bundle, ns.target, token=token_from(ns),
                                            strict=ns.strict, message=ns.message,
                                            progress=progress.update if progress else None,
                                            env=ns.env)
    finally:
        if progress:
            progress.close()
    ctx.emit(result, "\n".join(deploy_lines(result)))
    return 0


def cmd_rollback(ctx) -> int:
    ns = ctx.ns
    d = ctx.project.bundles.rollback(ns.target, to=ns.to, token=token_from(ns),
                                     message=ns.message, strict=ns.strict)
    was = f"; bundle {d['previous_bundle_id'][:12]} before" if d.get("previous_bundle_id") else ""
    ctx.emit(d, f"rolled back: {deployment_line(d)}{was}")
    return 0


def cmd_deployments(ctx) -> int:
    ns = ctx.ns
    history = ctx.project.bundles.deployments(ns.target, token=token_from(ns), limit=ns.limit)
    if ctx.json:
        ctx.emit(history, "")
        return 0
    active = history["active"]
    ctx.out(deployment_line(active) if active else f"nothing is deployed on {history['node']}")
    if history["deployments"]:
        ctx.out("")
        ctx.out(text_table(DEPLOYMENT_HEADERS, deployment_rows(history["deployments"])))
    return 0


# -- nodes ------------------------------------------------------------------------------------
def cmd_nodes_list(ctx) -> int:
    nodes = ctx.project.bundles.nodes()
    if ctx.json:
        ctx.emit({"nodes": nodes}, "")
    elif not nodes:
        ctx.out("no registered nodes: `mlprod nodes register NAME URL` adds one")
    else:
        ctx.out(text_table(NODE_HEADERS, node_rows(nodes)))
    return 0


def cmd_nodes_register(ctx) -> int:
    ns = ctx.ns
    node = ctx.project.bundles.register_node(ns.name, ns.url, ns.token_env)
    hint = "" if node["token_available"] else f" (set ${node['token_env']} before deploying)"
    ctx.emit(node, f"registered node {node['name']} at {node['url']}; its token is read from "
                   f"${node['token_env']}{hint}")
    return 0


def cmd_nodes_remove(ctx) -> int:
    ctx.project.bundles.remove_node(ctx.ns.name)
    ctx.emit({"name": ctx.ns.name, "removed": True}, f"removed node {ctx.ns.name}")
    return 0


def cmd_node(ctx) -> int:
    import logging

    from ..node import run_node
    from . import args as shared

    ns = ctx.ns
    if not 0 <= ns.port <= 65535:
        raise InvalidInput(f"--port must be from 0 to 65535, got {ns.port}", field="port")
    if ns.serve_port is not None and not 0 <= ns.serve_port <= 65535:
        raise InvalidInput(f"--serve-port must be from 0 to 65535, got {ns.serve_port}",
                           field="serve_port")
    if ns.sync_interval <= 0:
        raise InvalidInput("--sync-interval must be > 0", field="sync_interval")
    logging.basicConfig(level=logging.INFO, stream=ctx.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def ready(info: dict) -> None:
        if ctx.json:
            ctx.out(json.dumps(info))
        else:
            ctx.out(f"mlprod node {info['name']} serving {info['root']} at {info['url']} "
                    "(Ctrl-C or SIGTERM stops it)")
        ctx.stdout.flush()

    try:
        run_node(shared.project_root(ns, required=False), ns.port, ns.token, host=ns.host,
                 token_file=ns.token_file, store_url=getattr(ns, "store", None), name=ns.name,
                 ready_file=ns.ready_file, start_services=not ns.no_services,
                 sync_interval=ns.sync_interval, on_ready=ready, serve_port=ns.serve_port,
                 serve_host=ns.serve_host, serve_workers=ns.serve_workers)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise InvalidInput(f"cannot listen on {ns.host}:{ns.port}: {exc.strerror}",
                               field="port") from None
        raise
    ctx.err("mlprod node stopped")
    return 0
