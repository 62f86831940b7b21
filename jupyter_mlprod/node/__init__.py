"""The headless production node: a small tornado app that receives bundles over a token-
authenticated REST API, activates them atomically, and runs its active bundle's scenarios
(and endpoints). No JupyterLab needed. `run_node()` is the entry the `mlprod node` command
wraps; `python -m jupyter_mlprod.node` runs it too."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


class Node:
    """Everything the handlers share: the node's project and bundle service, the runtime of the
    active bundle, the accepted tokens and the thread pool for blocking work."""

    def __init__(self, root, *, tokens: dict[str, str], store_url: str | None = None,
                 name: str | None = None, start_services: bool = True,
                 serve: dict | None = None):
        from .. import __version__
        from ..bundles.runtime import ActiveRuntime
        from ..project import Project

        self.project = Project(root, store_url=store_url, name=name)
        self.service = self.project.bundles
        self.tokens = tokens
        from .config import load_body_limits

        self.body_limits = load_body_limits(self.project.root)
        self.version = __version__
        self.pool = ThreadPoolExecutor(8, thread_name_prefix="mlprod-node")
        self.runtime = ActiveRuntime(self.service, start_services=start_services)
        self.serving = None  # with `serve` ({host, port, workers}): the endpoints' server
        if serve is not None and start_services:
            from ..serving.supervisor import EndpointSupervisor

            self.serving = EndpointSupervisor(self.project.endpoints, **serve)

    @property
    def _clean_marker(self) -> Path:
        return self.project.settings.state_dir / "node.clean"

    def start(self) -> dict:
        recovered = self.service.recover()
        if not self._clean_marker.exists():  # the last run of the node did not stop cleanly
            recovered["repaired"] = self.service.activator.repair_active()
        self._clean_marker.unlink(missing_ok=True)
        self.sync()
        return recovered

    def sync(self) -> dict:
        """Match the running services to the active deployment; keep the endpoints served."""
        described = self.runtime.sync()
        if self.serving is not None:
            self.serving.ensure()
        return described

    def close(self) -> None:
        if self.serving is not None:
            self.serving.stop()
        self.runtime.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.project.close()
        self._clean_marker.write_text("stopped cleanly\n")


def make_app(node: Node):
    from tornado import web

    from .handlers import ROUTES

    return web.Application(ROUTES, node=node, compress_response=False)


def run_node(root: str | os.PathLike = ".", port: int = 8765, token: str | None = None, *,
             host: str = "127.0.0.1", token_file: str | None = None, store_url: str | None = None,
             name: str | None = None, ready_file: str | os.PathLike | None = None,
             start_services: bool = True, sync_interval: float = 3.0,
             serve_port: int | None = None, serve_host: str | None = None,
             serve_workers: int | None = None,
             on_ready: Callable[[dict], None] | None = None) -> None:
    """Serve the node until SIGINT/SIGTERM. `port=0` picks a free port; `ready_file` receives
    {"url", "port", "pid"} once the node accepts requests, and `on_ready` is called with it
    (plus "name" and "root"). With `serve_port`, the active bundle's endpoints are served there
    (on `serve_host`, default `host`; beyond loopback each endpoint needs an API key), switching
    version with every activation or rollback."""
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import PeriodicCallback
    from tornado.netutil import bind_sockets

    from .config import load_tokens

    root = Path(root).expanduser().resolve()
    tokens = load_tokens(root, token, token_file)
    serve = None if serve_port is None else {
        "host": serve_host or host, "port": serve_port, "workers": serve_workers}
    node = Node(root, tokens=tokens, store_url=store_url, name=name,
                start_services=start_services, serve=serve)
    node.start()
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the node listens on %s over plain HTTP; put it behind TLS", host)

    async def main() -> None:
        server = HTTPServer(make_app(node), max_buffer_size=128 << 20, max_body_size=128 << 20)
        sockets = bind_sockets(port, host)
        server.add_sockets(sockets)
        actual = sockets[0].getsockname()[1]
        url = f"http://{host}:{actual}"
        log.info("mlprod node %s serving %s on %s", node.service.node_name, root, url)
        if ready_file:
            tmp = Path(str(ready_file) + ".tmp")
            tmp.write_text(json.dumps({"url": url, "port": actual, "pid": os.getpid()}))
            os.replace(tmp, ready_file)
        if on_ready:
            on_ready({"url": url, "port": actual, "pid": os.getpid(),
                      "name": node.service.node_name, "root": str(root)})
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        busy = [False]

        async def sync() -> None:
            if busy[0]:
                return
            busy[0] = True
            try:
                await loop.run_in_executor(node.pool, node.sync)
            except Exception:
                log.exception("could not sync the active deployment")
            finally:
                busy[0] = False

        syncer = PeriodicCallback(sync, sync_interval * 1000)
        syncer.start()
        await stop.wait()
        syncer.stop()
        server.stop()

    try:
        asyncio.run(main())
    finally:
        node.close()


__all__ = ["Node", "make_app", "run_node"]
