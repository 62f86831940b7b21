"""Keep one serving process up for every endpoint of a project: what a production node runs.

The node's active bundle decides which version each endpoint serves (`deploy_bundle` on every
activation or rollback moves the traffic); the server, started once for every endpoint, picks
those switches up from the store and warms new versions before traffic moves. `ensure()` is
called after each sync of the node: it starts the server once there is an endpoint to serve,
and restarts it if it died. Bound beyond loopback, every endpoint needs an API key (the
server refuses to start otherwise, and says so in the log)."""
from __future__ import annotations

import logging
import threading

from ..errors import MlprodError

log = logging.getLogger(__name__)


class EndpointSupervisor:
    def __init__(self, service, *, host: str = "127.0.0.1", port: int = 8000,
                 workers: int | None = None, poll_interval: float = 0.5):
        self.service = service  # an EndpointService
        self.host, self.port, self.workers = host, port, workers
        self.poll_interval = poll_interval
        self.handle = None
        self.problem: str | None = None
        self._lock = threading.Lock()

    def ensure(self) -> dict:
        """Start (or restart) the server when there is something to serve. Never raises: a
        node keeps answering its own API (to allow a fix or a rollback) whatever happens here."""
        with self._lock:
            if self.handle is not None and self.handle.alive:
                return self.describe()
            if self.handle is not None:
                log.warning("the endpoint server %s exited; restarting it", self.handle.url)
                self.handle = None
            try:
                if not any(e["traffic"] for e in self.service.list()):
                    return self._note(None)
                self.handle = self.service.serve(None, host=self.host, port=self.port,
                                                 workers=self.workers,
                                                 poll_interval=self.poll_interval)
            except MlprodError as exc:
                return self._note(exc.message)
            except Exception as exc:  # noqa: BLE001 - reported, retried on the next sync
                log.exception("could not start the endpoint server")
                return self._note(f"{type(exc).__name__}: {exc}")
            log.info("serving the active bundle's endpoints at %s", self.handle.url)
            self.problem = None
            return self.describe()

    def _note(self, problem: str | None) -> dict:
        if problem and problem != self.problem:
            log.error("cannot serve the endpoints on %s:%s: %s", self.host, self.port, problem)
        self.problem = problem
        return self.describe()

    def describe(self) -> dict:
        handle = self.handle
        return {"url": handle.url if handle is not None and handle.alive else None,
                "server_id": handle.server_id if handle is not None else None,
                "host": self.host, "port": self.port, "problem": self.problem}

    def stop(self) -> None:
        with self._lock:
            handle, self.handle = self.handle, None
        if handle is not None:
            handle.stop()
