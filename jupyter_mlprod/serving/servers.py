"""The serving half of EndpointService: start servers (background or foreground), "serve this
notebook", deploy a bundle's scoring notebooks, list and stop servers, send test requests and
read live figures. Mixed into EndpointService; nothing here holds state of its own."""
from __future__ import annotations

import time
from pathlib import Path

from ..audit import audited
from ..clock import isoformat
from ..errors import Conflict, InvalidInput, NotFound
from . import stats as _stats
from .config import check_name, merge_options, name_from_notebook
from .notebook_cells import MISSING, ScoringSpec, read_scoring_notebook
from .traffic import primary_version


class ServersMixin:
    # -- serving --------------------------------------------------------------------------
    @audited("server.start", "server", lambda endpoints=None, **_: (
        endpoints if isinstance(endpoints, str) else None))
    def serve(self, endpoints: str | list[str] | None = None, *, host: str = "127.0.0.1",
              port: int = 0, workers: int | None = None, poll_interval: float = 1.0,
              startup_timeout: float = 300.0, cpus: list[int] | None = None,
              kg_root: bool = False):
        """Start a server in the background for `endpoints` (a name, a list, None = every
        endpoint, including ones created later, or a notebook path: see serve_notebook).
        `workers` defaults to the available cores; `cpus` pins the server's processes.
        Returns a ServerHandle (.url, .stop(), .request()) once every endpoint is warm."""
        from .handle import start_server

        if isinstance(endpoints, str) and endpoints.endswith(".ipynb"):
            return self.serve_notebook(endpoints, host=host, port=port, workers=workers,
                                       poll_interval=poll_interval, startup_timeout=startup_timeout,
                                       cpus=cpus, kg_root=kg_root)
        names = [endpoints] if isinstance(endpoints, str) else endpoints
        for name in names or []:
            self._endpoint(name)
        if kg_root:
            self._check_kg_root(names)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        log_path = self.settings.state_dir / "serving" / f"server-{stamp}-{'-'.join(names or ['all'])[:60]}.log"
        handle = start_server(self.settings.root, store_url=self.settings.store_url,
                              endpoints=names, host=host, port=port, workers=workers,
                              poll_interval=poll_interval, log_path=log_path,
                              startup_timeout=startup_timeout, cpus=cpus, kg_root=kg_root)
        with self._lock:
            self._servers[handle.server_id] = handle
        self.audit_trail.record("server.start", object_type="server", object_id=handle.server_id,
                                after={"endpoints": names or "all", "url": handle.url})
        return handle

    def serve_notebook(self, path: str, *, name: str | None = None, options: dict | None = None,
                       **serve_kwargs):
        """"Serve this notebook": make sure an endpoint (named after the notebook) has a version
        with the notebook's current cells, taking all traffic, then serve it."""
        self.ensure_notebook_endpoint(path, name=name, options=options)
        return self.serve([name or name_from_notebook(path)], **serve_kwargs)

    def serve_notebook_endpoint(self, path: str, *, name: str | None = None,
                                options: dict | None = None) -> dict:
        """"Serve this notebook" in one action for the doors: the endpoint (created or given
        a version with the notebook's current cells), served and warm, its view listing the
        server URLs. A server already serving it is reused (it warms a new version itself
        before switching traffic); else one starts and answers once the endpoint is warm."""
        view = self.ensure_notebook_endpoint(path, name=name, options=options)
        if not view["servers"]:
            self.serve([view["name"]])
        return self.get(view["name"])

    def ensure_notebook_endpoint(self, path: str, *, name: str | None = None,
                                 options: dict | None = None) -> dict:
        rel, spec = self._spec_from_working(path)
        name = check_name(name or name_from_notebook(rel))
        if self.repo.get_endpoint(name) is None:
            self._create_on_the_way(name, f"served from {rel}", options)
        elif options:
            self.update(name, options=options)
        row = self._endpoint(name)
        current = primary_version(row["traffic"])
        versions = {v["version"]: v for v in self.repo.list_versions(row["id"])}
        live = versions.get(current)
        if live is None or live["digest"] != spec.digest or live["source"] != "notebook":
            same = [v for v in versions.values() if v["digest"] == spec.digest
                    and v["source"] == "notebook"]
            if same:
                self.promote(name, same[-1]["version"])
            else:
                self.add_version(name, notebook=rel, activate=True)
        return self.get(name)

    def _create_on_the_way(self, name: str, description: str, options: dict | None) -> None:
        """An endpoint created by "serve this notebook" or a bundle's deploy is audited like
        one created on purpose, in the same transaction."""
        options = merge_options(None, options)
        self.repo.create_endpoint(name, description, options, self.clock.now(),
                                  audit=self.audit_trail.event(
                                      "endpoint.create", "endpoint", name,
                                      after={"description": description, "options": options}))

    def deploy_bundle(self, bundle_dir: str | Path, bundle_id: str | None = None, *,
                      endpoints: dict[str, str] | None = None,
                      environment: dict | None = None) -> list[dict]:
        """Serve a bundle's scoring notebooks: each notebook with an `mlprod-score` cell (or the
        `endpoints` mapping name -> notebook) gets a version labelled by the bundle id (its
        first 12 characters for a content hash), taking all traffic (servers warm it before
        switching; `rollback` undoes it). `environment` (the deployment's, when it was deployed
        with its own: {"venv", "kernel"}) makes the versions' cells run with that environment's
        Python (Kernel Gateway notebooks excepted: they run in the server's). Returns the
        endpoints switched ([] if none)."""
        from .environments import version_environment
        folder = Path(bundle_dir).expanduser().resolve()
        if not folder.is_dir():
            raise InvalidInput(f"bundle folder {folder} does not exist", field="bundle_dir")
        bundle_id = bundle_id or folder.name
        mapping = endpoints or _scoring_notebooks(folder)
        results = []
        for name, rel in sorted(mapping.items()):
            spec = read_scoring_notebook(folder / rel, rel)
            served_from = version_environment(environment) if spec.mode == "mlprod" else None
            if self.repo.get_endpoint(name) is None:
                self._create_on_the_way(name, f"served from bundle {bundle_id}", None)
            row = self._endpoint(name)
            existing = [v for v in self.repo.list_versions(row["id"])
                        if v["bundle_id"] == bundle_id and v["digest"] == spec.digest
                        and v["workdir"] == str(folder)
                        and (v.get("environment") or None) == served_from]
            if existing:
                self.promote(name, existing[-1]["version"])
            else:
                self.add_version(name, bundle_dir=folder, bundle_id=bundle_id, notebook=rel,
                                 activate=True, environment=served_from)
            results.append(self.get(name))
        return results

    def run(self, endpoints: list[str] | None = None, *, host: str = "127.0.0.1", port: int = 8000,
            workers: int | None = None, poll_interval: float = 1.0,
            cpus: list[int] | None = None, kg_root: bool = False) -> int:
        """Serve in the foreground until SIGTERM/Ctrl-C (`mlprod serve`, the node daemon).
        Call from the main thread. Returns an exit code."""
        import logging
        import os
        import secrets

        if not logging.getLogger().handlers and not logging.getLogger("jupyter_mlprod").handlers:
            logging.basicConfig(level=logging.INFO,
                                format="%(asctime)s %(levelname)s [%(process)d] %(message)s")
        if cpus:
            os.sched_setaffinity(0, set(cpus))
        from .runtime import ServerConfig, run_server
        from .workers import default_workers

        if kg_root:
            self._check_kg_root(endpoints)

        return run_server(ServerConfig(
            root=str(self.settings.root), store_url=self.settings.store_url, endpoints=endpoints,
            host=host, port=port, workers=workers or default_workers(),
            poll_interval=poll_interval, server_id="s" + secrets.token_hex(6), kg_root=kg_root))

    def _check_kg_root(self, names: list[str] | None) -> None:
        """--kg-root serves one Kernel Gateway notebook's routes at the root: refuse anything else
        before a server starts."""
        names = names if names is not None else [view["name"] for view in self.list()]
        if len(names) != 1 or self.get(names[0])["mode"] != "kernel_gateway":
            raise InvalidInput("--kg-root serves one Kernel Gateway notebook (cells starting "
                               f"`# GET /path`) at the root; serving {', '.join(names) or 'none'}",
                               field="kg_root", code="invalid_kg_root")

    def openapi(self, name: str, server_url: str | None = None) -> dict:
        """The endpoint's OpenAPI document, from the store (no notebook code runs)."""
        import types

        from .openapi import build_openapi

        view = self.get(name)
        row = self._endpoint(name)
        label = primary_version(row["traffic"])
        if label is None:
            raise Conflict(f"endpoint {name!r} has no version taking traffic yet", field="name",
                           code="no_version")
        spec = ScoringSpec.from_dict(self.repo.get_versions(row["id"], [label])[label]["spec"])
        shim = types.SimpleNamespace(
            spec=spec, version=label, schema=view["input_schema"] or {},
            sample=MISSING if view["sample"] is None else view["sample"],
            batching=view["options"]["batching"]["enabled"] and spec.mode == "mlprod")
        return build_openapi(name, shim, view["keys"] > 0, server_url)

    def close(self) -> None:
        """Stop the servers this service started (Project.close may call it)."""
        with self._lock:
            handles = list(self._servers.values())
            self._servers.clear()
        for handle in handles:
            handle.stop()

    def servers(self) -> list[dict]:
        """Servers of this project that are up (started here, by the CLI or by a node)."""
        return [dict(s, started_here=s["server_id"] in self._servers) for s in self._live_servers()]

    @audited("server.stop", "server")
    def stop_server(self, server_id: str) -> None:
        with self._lock:
            handle = self._servers.pop(server_id, None)
        if handle is not None:
            handle.stop()
            self.audit_trail.record("server.stop", object_type="server", object_id=server_id)
            return
        import os
        import signal
        import socket

        for server in self._live_servers():
            if server["server_id"] == server_id and server["hostname"] == socket.gethostname():
                os.kill(server["pid"], signal.SIGTERM)
                self.audit_trail.record("server.stop", object_type="server", object_id=server_id,
                                        details={"pid": server["pid"]})
                return
        raise NotFound(f"no running server {server_id!r} on this machine", field="server_id")

    def test_request(self, name: str, request, *, path: str = "predict",
                     headers: dict | None = None) -> dict:
        """For a test console: send `request` to a server started here that serves `name`
        (real HTTP, real latency), or else score it in this process."""
        with self._lock:
            handle = next((h for h in self._servers.values() if h.serves(name)), None)
        if handle is not None:
            reply = handle.request(name, request, path=path, headers=headers)
            return {"status": reply["status"], "body": reply["body"], "version": reply["version"],
                    "latency_ms": reply["latency_ms"], "via": handle.url}
        return dict(self.score(name, request, path=path), via="in-process")

    def live_stats(self, name: str) -> dict:
        """Requests and errors since each server started (totals), req/s, error rate and
        latency quantiles over the last few minutes (`window_s`), per version, from the
        servers' /metrics."""
        self._endpoint(name)
        merged: dict = {}
        windows = []
        for server in self._live_servers():
            if server["endpoints"] is not None and name not in server["endpoints"]:
                continue
            try:
                now = _stats.scrape(server["url"])
            except OSError:
                continue
            before, window = self._window_start(server, now)
            windows.append(window)
            summary = _stats.summarize(name, now, before, window)
            for version, view in summary["versions"].items():
                merged.setdefault(version, []).append(view)
        versions = {v: views[0] if len(views) == 1 else _sum_views(views) for v, views in merged.items()}
        window = windows[0] if windows and all(windows) else None
        return {"endpoint": name, "window_s": round(window, 3) if window else None,
                "versions": versions}

    def _window_start(self, server: dict, now: dict) -> tuple[dict | None, float]:
        """The scrape at the start of the last WINDOW_S seconds (None: the server's start,
        when it started within the window) and the window's length in seconds."""
        from datetime import datetime, timezone

        at = time.time()
        history = self._scrapes.setdefault(server["url"], [])
        history.append((at, now))
        while len(history) > 1 and history[1][0] <= at - _stats.WINDOW_S:
            history.pop(0)  # keep one scrape at or before the window's start
        started = datetime.fromisoformat(server["started_at"]).timestamp() \
            if server.get("started_at") else None
        if started is not None and started >= at - _stats.WINDOW_S:
            return None, max(at - started, 1e-3)
        first_at, first = history[0]
        if first_at <= at - _stats.WINDOW_S or len(history) > 1:
            return first, max(at - first_at, 1e-3)
        return None, 0.0  # first look at a server older than the window: totals only

    def _live_servers(self) -> list[dict]:
        import os
        import socket

        here = socket.gethostname()
        alive = []
        for server in self.repo.list_servers():
            if server["hostname"] == here:
                try:
                    os.kill(server["pid"], 0)
                except ProcessLookupError:
                    self.repo.remove_server(server["server_id"])  # died without saying so
                    continue
                except PermissionError:
                    pass
            alive.append({"server_id": server["server_id"], "url": server["url"],
                          "host": server["host"], "port": server["port"],
                          "hostname": server["hostname"], "pid": server["pid"],
                          "workers": server["workers"], "endpoints": server["endpoints"],
                          "started_at": isoformat(server["started_at"]),
                          "heartbeat_at": isoformat(server["heartbeat_at"])})
        return alive


def _scoring_notebooks(folder: Path) -> dict[str, str]:
    from ..notebooks.reader import cell_tags, read_notebook
    from .notebook_cells import SCORE_TAG

    found = {}
    for path in sorted(folder.rglob("*.ipynb")):
        rel = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        try:
            nb = read_notebook(path, rel)
        except InvalidInput:
            continue
        if any(SCORE_TAG in cell_tags(c) for c in nb["cells"] if c.get("cell_type") == "code"):
            found[name_from_notebook(rel)] = rel
    return found  # a bundle without a scoring notebook simply has no endpoint


def _sum_views(views: list[dict]) -> dict:
    out = dict(views[0])
    for key in ("requests", "errors"):
        out[key] = sum(v[key] for v in views)
    rates = [v["req_per_s"] for v in views if v["req_per_s"] is not None]
    out["req_per_s"] = round(sum(rates), 2) if rates else None
    return out
