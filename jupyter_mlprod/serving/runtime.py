"""The serving process: endpoints from the store, set up once, served by N workers.

Start-up: read the endpoints and their traffic, set up and warm every live version (a failure
stops the start, with the notebook's cell and exception in the message), check keys (required
beyond loopback), bind, fork the workers, report `ready` to whoever started us.

While serving, each worker polls the endpoints' revisions (one query per `poll_interval`). When
one moves, the worker builds the new EndpointRuntime in a background thread - setting up and
warming any version it has not loaded yet - then swaps it in on the event loop. Requests keep
flowing to the old versions until the swap: a version switch drops nothing.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
from pathlib import Path

from ..errors import InvalidInput, MlprodError, NotFound
from ..settings import Settings
from ..store.db import create_store_engine, migrate
from ..store.endpoints import EndpointRepository
from .config import merge_options
from .deadline import Deadline
from .engine import LoadedVersion, options_key
from .keys import is_loopback
from .notebook_cells import ScoringSpec
from .traffic import EndpointRuntime, live_versions
from ..words import counted

log = logging.getLogger("jupyter_mlprod.serving")


@dataclasses.dataclass
class ServerConfig:
    root: str
    store_url: str = ""
    endpoints: list[str] | None = None  # None: every endpoint of the project, new ones too
    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 1
    poll_interval: float = 1.0
    internal_hash: str | None = None  # lets the process that started us call any endpoint
    server_id: str = ""
    status_fd: int | None = None
    kg_root: bool = False  # serve the one Kernel Gateway endpoint's routes at the root too


class ServingState:
    def __init__(self):
        self.endpoints: dict[str, EndpointRuntime] = {}
        self.ready = False
        self.kg_root: str | None = None  # the endpoint whose routes are served at the root


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Loader:
    """Builds EndpointRuntimes from the store, reusing versions already set up."""

    def __init__(self, repo: EndpointRepository, root: Path, require_keys: bool,
                 deadline: Deadline, metrics=None):
        self.repo = repo
        self.root = root
        self.require_keys = require_keys
        self.deadline = deadline
        self.metrics = metrics
        self._setups: dict[tuple, LoadedVersion] = {}  # (endpoint, version, digest) -> loaded
        self._bound: dict[tuple, LoadedVersion] = {}  # + options key
        self._retired: dict[str, set] = {}  # endpoint -> versions its last change retired
        self._was_live: set[tuple] = set()

    def build(self, name: str) -> EndpointRuntime | None:
        """None when the endpoint is gone or has no traffic yet."""
        endpoint = self.repo.get_endpoint(name)
        if endpoint is None or not endpoint["traffic"]:
            return None
        options = merge_options(endpoint["options"], None)
        traffic = endpoint["traffic"]
        rows = self.repo.get_versions(endpoint["id"], live_versions(traffic))
        loaded = {}
        for version in live_versions(traffic):
            row = rows.get(version)
            if row is None:
                raise NotFound(f"endpoint {name!r}: version {version} is in its traffic but "
                               "does not exist", field="version")
            loaded[version] = self._load(endpoint, row, options)
        hashes = frozenset(self.repo.active_key_hashes(endpoint["id"]))
        runtime = EndpointRuntime(name, endpoint["revision"], options, traffic, loaded, hashes,
                                  self.require_keys)
        runtime.id = endpoint["id"]
        return runtime

    def _load(self, endpoint: dict, row: dict, options: dict) -> LoadedVersion:
        base_key = (endpoint["name"], row["version"], row["digest"])
        bound_key = base_key + (options_key(options),)
        if bound_key in self._bound:
            return self._bound[bound_key]
        base = self._setups.get(base_key)
        try:
            if base is None:
                spec = ScoringSpec.from_dict(row["spec"])
                workdir = Path(row["workdir"]) if row["workdir"] else self.root
                log.info("setting up %s %s from %s", endpoint["name"], row["version"],
                         spec.notebook)
                base = self._version(endpoint["name"], row, spec, workdir, options).load()
                self._setups[base_key] = base
            version = base.rebind(options)
        except MlprodError as exc:
            self._status(endpoint, row["version"], "failed", exc.message)
            raise
        self._bound[bound_key] = version
        self._status(endpoint, row["version"], "ready", None)
        return version

    def _version(self, name: str, row: dict, spec: ScoringSpec, workdir: Path,
                 options: dict) -> LoadedVersion:
        if not row.get("environment"):
            return LoadedVersion(name, row["version"], spec, workdir, options, self.deadline)
        from .environments import EnvVersion  # a bundle deployed with its own environment

        return EnvVersion(name, row["version"], spec, workdir, options, self.deadline,
                          environment=row["environment"], cwd=str(self.root))

    def _status(self, endpoint: dict, version: str, status: str, error: str | None) -> None:
        if self.metrics is not None:
            self.metrics.loads.labels(endpoint["name"], version, status).inc()
        try:
            self.repo.set_version_status(endpoint["id"], version, status, error, _now())
        except Exception:  # noqa: BLE001 - status is informative; serving goes on
            log.exception("could not record the status of %s %s", endpoint["name"], version)

    def forget_unused(self, state: ServingState) -> None:
        """Drop versions no longer live, except those retired by each endpoint's last change:
        they stay set up, so rolling back switches at once."""
        live = {(v.endpoint, v.version, v.digest) for rt in state.endpoints.values()
                for v in rt.versions.values()}
        retired_now: dict[str, set] = {}
        for key in self._was_live - live:
            retired_now.setdefault(key[0], set()).add(key)
        self._retired.update(retired_now)
        for name in list(self._retired):
            if name not in state.endpoints:
                del self._retired[name]
        keep = live.union(*self._retired.values())
        for key in list(self._setups):
            if key not in keep:
                del self._setups[key]
        for key in list(self._bound):
            if key[:3] not in keep:
                del self._bound[key]
        self._was_live = live


def run_server(config: ServerConfig) -> int:
    """Serve until SIGTERM/SIGINT. Returns the process exit code (3: could not start)."""
    status = _StatusPipe(config.status_fd)
    try:
        return _run(config, status)
    except MlprodError as exc:
        log.error("cannot start: %s", exc.message)
        status.send({"status": "failed", **exc.to_dict()})
        return 3
    except OSError as exc:
        log.error("cannot start: %s", exc)
        status.send({"status": "failed", "code": "unavailable", "message": str(exc)})
        return 3


def _run(config: ServerConfig, status: "_StatusPipe") -> int:
    overrides = {"store_url": config.store_url} if config.store_url else {}
    settings = Settings.load(config.root, overrides)
    os.chdir(settings.root)
    engine = create_store_engine(settings.store_url)
    migrate(engine)
    repo = EndpointRepository(engine, settings.name)
    require_keys = not is_loopback(config.host)
    loader = Loader(repo, settings.root, require_keys, Deadline())
    state = ServingState()
    names = config.endpoints if config.endpoints is not None else sorted(repo.revisions())
    for name in names:
        if config.endpoints is not None and repo.get_endpoint(name) is None:
            raise NotFound(f"endpoint {name!r} does not exist", field="endpoint")
        runtime = loader.build(name)
        if runtime is None:
            if config.endpoints is not None:
                raise InvalidInput(f"endpoint {name!r} has no version taking traffic yet: add a "
                                   "version first", field="endpoint", code="no_version")
            continue
        if require_keys and not runtime.key_hashes:
            raise InvalidInput(
                f"endpoint {name!r} has no API key, and {config.host} is reachable beyond this "
                f"machine: create a key (EndpointService.create_key({name!r}), `mlprod endpoint "
                "keys create`) or bind 127.0.0.1", field="host", code="keys_required")
        state.endpoints[name] = runtime
    if not state.endpoints:
        raise InvalidInput("there is no endpoint with a version to serve: add a version first",
                           field="endpoint", code="no_version")
    if config.kg_root:
        state.kg_root = _kg_root(state)
    workers = max(1, int(config.workers))
    from .workers import Supervisor, bind, check_port_free

    check_port_free(config.host, config.port)
    if workers == 1:
        sock = bind(config.host, config.port, reuse_port=False)
        port = sock.getsockname()[1]
        announce = _announcer(config, repo, status, port, workers, settings)
        return _serve(config, state, loader, repo, sock, None, announce,
                      _Heartbeat(repo, config.server_id))
    reservation = bind(config.host, config.port, reuse_port=True, listen=False)
    port = reservation.getsockname()[1]
    metrics_dir = tempfile.mkdtemp(prefix="mlprod-metrics-")
    engine.dispose()  # every worker opens its own connections

    def child(index: int, ready_fd: int) -> None:
        engine.dispose(close=False)
        sock = bind(config.host, port, reuse_port=True)

        def ready():
            os.write(ready_fd, b"1")
        _serve(config, state, loader, repo, sock, metrics_dir, ready)

    announce = _announcer(config, repo, status, port, workers, settings)
    heartbeat = _Heartbeat(repo, config.server_id)
    try:
        return Supervisor(workers, child, announce, heartbeat.tick).run()
    finally:
        _deregister(repo, config.server_id)
        shutil.rmtree(metrics_dir, ignore_errors=True)
        reservation.close()


def _kg_root(state: ServingState) -> str:
    names = list(state.endpoints)
    if len(names) != 1 or state.endpoints[names[0]].primary.spec.mode != "kernel_gateway":
        raise InvalidInput("--kg-root serves one Kernel Gateway notebook at the root: serve "
                           f"exactly one such notebook (serving {', '.join(names)})",
                           field="kg_root", code="invalid_kg_root")
    return names[0]


def _serve(config, state, loader, repo, sock, metrics_dir, on_ready, heartbeat=None) -> int:
    """One worker: sync with the store, serve, poll for changes, stop on SIGTERM."""
    import asyncio

    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop

    from .http import ServingApp, max_body_size
    from .metrics import ServingMetrics
    from .predlog import PredictionLog

    asyncio.set_event_loop(asyncio.new_event_loop())
    loop = IOLoop.current()
    metrics = ServingMetrics(metrics_dir)
    loader.metrics = metrics
    if metrics_dir:  # a (re)started worker may be behind the store: catch up before listening
        _apply(state, _changes(loader, state, config), loader)
        for runtime in state.endpoints.values():  # versions served from a bundle's environment
            for version in runtime.versions.values():
                getattr(version, "start_here", _nothing)()
    from ..monitoring.prediction_columns import ColumnLog
    from ..store.drift import DriftRepository

    predlog = PredictionLog(repo.append_predictions,
                            columns=ColumnLog(loader.root / ".mlprod" / "predlog"),
                            labels=DriftRepository(repo.engine, repo.project).append_labels)
    app = ServingApp(state, metrics, predlog, loop, config.internal_hash)
    server = HTTPServer(app, max_body_size=max_body_size(), idle_connection_timeout=300,
                        body_timeout=120)
    server.add_sockets([sock])
    state.ready = True
    if os.environ.get("MLPROD_SERVING_GC_FREEZE", "1") == "1":
        import gc

        gc.collect()
        gc.freeze()  # the setup's objects (model, libraries) are never scanned by the GC again
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(config, state, loader, loop, stop, heartbeat),
                              name="mlprod-poll", daemon=True)
    poller.start()

    def shutdown():
        server.stop()
        loop.call_later(0.2, loop.stop)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: loop.add_callback_from_signal(shutdown))
        signal.signal(signal.SIGINT, lambda *_: loop.add_callback_from_signal(shutdown))
    on_ready()  # the socket listens already: connections wait in its backlog
    try:
        loop.start()
    finally:
        stop.set()
        predlog.close()
        if metrics_dir is None:
            _deregister(repo, config.server_id)
    return 0


def _nothing() -> None:
    pass


def _changes(loader: Loader, state: ServingState, config: ServerConfig) -> dict:
    """name -> new EndpointRuntime (None: stop serving it) for every endpoint that moved."""
    revisions = loader.repo.revisions(config.endpoints)
    updates: dict = {}
    for name in set(state.endpoints) | set(revisions):
        current = state.endpoints.get(name)
        if name not in revisions:
            updates[name] = None
        elif current is None or current.revision != revisions[name]:
            try:
                runtime = loader.build(name)
            except MlprodError as exc:
                log.error("endpoint %s: revision %s not applied, still serving the previous "
                          "one: %s", name, revisions[name], exc.message)
                if current is not None:  # do not retry the same revision every poll
                    current.revision = revisions[name]
                continue
            if runtime is not None or current is not None:
                updates[name] = runtime
    return updates


def _apply(state: ServingState, updates: dict, loader: Loader) -> None:
    for name, runtime in updates.items():
        if runtime is None:
            state.endpoints.pop(name, None)
            log.info("endpoint %s: no longer served", name)
        else:
            state.endpoints[name] = runtime
            log.info("endpoint %s: revision %d live, traffic %s", name, runtime.revision,
                     json.dumps(runtime.traffic))
    loader.forget_unused(state)


def _poll(config, state, loader, loop, stop: threading.Event, heartbeat=None) -> None:
    while not stop.wait(config.poll_interval):
        if heartbeat is not None:
            heartbeat.tick()
        try:
            updates = _changes(loader, state, config)
        except Exception:  # noqa: BLE001 - the store may be briefly unavailable
            log.exception("could not read endpoint changes")
            continue
        if updates:
            done = threading.Event()

            def swap(updates=updates, done=done):
                _apply(state, updates, loader)
                done.set()
            loop.add_callback(swap)
            done.wait(10)  # one swap at a time: the next poll sees the applied state


class _StatusPipe:
    def __init__(self, fd: int | None):
        self.fd = fd

    def send(self, message: dict) -> None:
        if self.fd is None:
            return
        try:
            os.write(self.fd, (json.dumps(message) + "\n").encode())
            os.close(self.fd)
        except OSError:
            pass
        self.fd = None


def _announcer(config, repo, status, port, workers, settings):
    def announce():
        host = config.host if config.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}"
        now = _now()
        try:
            repo.register_server({"server_id": config.server_id, "url": url, "host": config.host,
                                  "port": port, "hostname": socket.gethostname(),
                                  "pid": os.getpid(), "workers": workers,
                                  "endpoints": config.endpoints, "started_at": now,
                                  "heartbeat_at": now})
        except Exception:  # noqa: BLE001
            log.exception("could not register the server in the store")
        log.info("serving %s at %s with %s", ", ".join(config.endpoints or ["all endpoints"]),
                 url, counted(workers, "worker"))
        status.send({"status": "ready", "url": url, "port": port, "pid": os.getpid(),
                     "server_id": config.server_id, "workers": workers})
    return announce


class _Heartbeat:
    def __init__(self, repo, server_id):
        self.repo, self.server_id, self.last = repo, server_id, 0.0

    def tick(self) -> None:
        import time

        if time.monotonic() - self.last > 15:
            self.last = time.monotonic()
            try:
                self.repo.heartbeat_server(self.server_id, _now())
            except Exception:  # noqa: BLE001
                pass


def _deregister(repo, server_id: str) -> None:
    try:
        repo.remove_server(server_id)
    except Exception:  # noqa: BLE001
        pass
