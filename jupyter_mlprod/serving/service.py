"""EndpointService: every serving action, once. The doors (REST, magics, CLI, the node) call
this through `project.endpoints`; nothing here knows about them.

Endpoints, versions, traffic and keys live in the store. Running servers poll it, so a change
made here (a new version, a traffic split, a revoked key) reaches every server within its poll
interval, warm before it takes traffic.
"""
from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

from ..audit import audited
from ..clock import isoformat
from ..errors import Conflict, InvalidInput, NotFound
from ..notebooks.steps import relative_notebook_path
from ..store.endpoints import EndpointRepository
from .config import check_name, check_version, merge_options, name_from_notebook
from .environments import environment_audit, environment_view
from .keys import new_key
from .notebook_cells import MISSING, ScoringSpec, read_scoring_notebook
from .schema import record_schema
from .servers import ServersMixin
from .traffic import live_versions, normalize_traffic, primary_version


class EndpointService(ServersMixin):
    def __init__(self, project):
        self.project = project
        self.settings = project.settings
        self.clock = project.clock
        self.repo = EndpointRepository(project.engine, self.settings.name)
        self._servers: dict[str, object] = {}  # server_id -> ServerHandle started here
        self._loaded: collections.OrderedDict = collections.OrderedDict()  # for score()
        self._lock = threading.RLock()
        self._scrapes: dict[str, list[tuple[float, dict]]] = {}  # url -> timed scrapes
        self.audit_trail = project.audit_trail

    # -- endpoints ------------------------------------------------------------------------
    def list(self) -> list[dict]:
        servers = self._live_servers()
        return [self._view(row, servers) for row in self.repo.list_endpoints()]

    def get(self, name: str) -> dict:
        return self._view(self._endpoint(name), self._live_servers())

    @audited("endpoint.create", "endpoint")
    def create(self, name: str, *, notebook: str | None = None, description: str = "",
               options: dict | None = None) -> dict:
        """A new endpoint; with `notebook`, its first version (taking all traffic)."""
        check_name(name)
        if not isinstance(description, str):
            raise InvalidInput("description must be a string", field="description")
        if notebook is not None:
            self._spec_from_working(notebook)  # refuse a bad notebook before creating anything
        options = merge_options(None, options)
        self.repo.create_endpoint(name, description, options, self.clock.now(),
                                  audit=self.audit_trail.event(
                                      "endpoint.create", "endpoint", name,
                                      after={"description": description, "options": options}))
        if notebook is not None:
            self.add_version(name, notebook=notebook)
        return self.get(name)

    @audited("endpoint.edit", "endpoint")
    def update(self, name: str, *, description: str | None = None,
               options: dict | None = None) -> dict:
        """Change options (merged into the current ones) or the description."""
        row = self._endpoint(name)
        values = {}
        if description is not None:
            values["description"] = description
        if options is not None:
            values["options"] = merge_options(row["options"], options)
        if values:
            self.repo.update_endpoint(row["id"], self.clock.now(), audit=self.audit_trail.event(
                "endpoint.edit", "endpoint", name,
                before={k: row[k] for k in values}, after=values), **values)
        return self.get(name)

    @audited("endpoint.delete", "endpoint")
    def delete(self, name: str) -> None:
        row = self._endpoint(name)
        self.repo.delete_endpoint(row["id"], audit=self.audit_trail.event(
            "endpoint.delete", "endpoint", name,
            before={"description": row["description"], "traffic": row["traffic"]}))

    # -- versions -------------------------------------------------------------------------
    @audited("endpoint.version", "endpoint")
    def add_version(self, name: str, *, notebook: str | None = None,
                    bundle_dir: str | Path | None = None, bundle_id: str | None = None,
                    version: str | None = None, activate: bool | None = None,
                    environment: dict | None = None) -> dict:
        """A version from the working notebook (`notebook`, project-relative) or from a bundle
        folder (`bundle_dir`, with `notebook` relative to it; default: the notebook of the
        endpoint's latest version). Its cells are snapshotted: editing the notebook later does
        not change it. `activate` (default: only when the endpoint has no traffic yet) moves
        all traffic to it; servers warm it first. `environment` (a bundle folder's only: see
        deploy_bundle) makes servers run its cells with that environment's Python."""
        row = self._endpoint(name)
        versions = self.repo.list_versions(row["id"])
        if bundle_dir is not None:
            folder = Path(bundle_dir).expanduser().resolve()
            if not folder.is_dir():
                raise InvalidInput(f"bundle folder {folder} does not exist", field="bundle_dir")
            rel = notebook or (versions[-1]["notebook"] if versions else None)
            if rel is None:
                raise InvalidInput("which notebook of the bundle? pass notebook=", field="notebook")
            spec = read_scoring_notebook(folder / rel, rel)
            source, workdir = "bundle", str(folder)
            bundle_id = bundle_id or folder.name
        else:
            if notebook is None:
                raise InvalidInput("give a notebook or a bundle folder", field="notebook")
            rel, spec = self._spec_from_working(notebook)
            source, workdir, bundle_id = "notebook", None, None
            if environment is not None:
                raise InvalidInput("only a bundle's version can run in the bundle's environment",
                                   field="environment")
        taken = {v["version"] for v in versions}
        label = check_version(version) if version else (
            _bundle_label(bundle_id, taken) if bundle_id else _next_label(taken))
        if label in taken:
            raise Conflict(f"endpoint {name!r} already has a version {label}", field="version",
                           code="duplicate_version")
        base = Path(workdir) if workdir else self.settings.root
        self.project.drift.make_reference(name, label, base / rel, base)
        self.repo.add_version(row["id"], {
            "version": label, "source": source, "notebook": rel, "bundle_id": bundle_id,
            "workdir": workdir, "digest": spec.digest, "spec": spec.to_dict(),
            "environment": environment}, self.clock.now(),
            audit=self.audit_trail.event("endpoint.version", "endpoint", name,
                                         bundle_id=bundle_id,
                                         after={"version": label, "source": source,
                                                "notebook": rel, "digest": spec.digest,
                                                **environment_audit(environment)}))
        if activate or (activate is None and not row["traffic"]):
            self.set_traffic(name, {label: 100}, reason=f"activate {label}")
        return next(v for v in self.get(name)["versions"] if v["version"] == label)

    def versions(self, name: str) -> list[dict]:
        return self.get(name)["versions"]

    # -- traffic --------------------------------------------------------------------------
    @audited("endpoint.traffic", "endpoint")
    def set_traffic(self, name: str, weights: dict, *, shadow: str | None = None,
                    sticky_header: str | None = None, reason: str = "set traffic",
                    action: str = "endpoint.traffic") -> dict:
        """Weighted split (`{"v1": 90, "v2": 10}`), optional shadow version and sticky header.
        The previous setting is kept: `rollback` returns to it."""
        row = self._endpoint(name)
        known = {v["version"] for v in self.repo.list_versions(row["id"])}
        traffic = normalize_traffic(weights, shadow, sticky_header, known)
        self.repo.set_traffic(row["id"], traffic, row["traffic_id"], reason[:200], self.clock.now(),
                              audit=self.audit_trail.event(action, "endpoint", name,
                                                           before=row["traffic"], after=traffic,
                                                           details={"reason": reason[:200]}))
        return self.get(name)

    @audited("endpoint.promote", "endpoint")
    def promote(self, name: str, version: str) -> dict:
        """All traffic to `version` (the shadow stays unless it is the version promoted)."""
        current = self._endpoint(name)["traffic"] or {}
        shadow = current.get("shadow") if current.get("shadow") != version else None
        return self.set_traffic(name, {version: 100}, shadow=shadow,
                                sticky_header=current.get("sticky_header"),
                                reason=f"promote {version}", action="endpoint.promote")

    @audited("endpoint.rollback", "endpoint")
    def rollback(self, name: str) -> dict:
        """Back to the traffic before the current one, in one action. Repeating it walks
        further back in the history."""
        row = self._endpoint(name)
        current = self.repo.traffic_entry(row["traffic_id"]) if row["traffic_id"] else None
        previous = self.repo.traffic_entry(current["previous_id"]) \
            if current and current["previous_id"] else None
        if previous is None:
            raise Conflict(f"endpoint {name!r} has no earlier traffic to roll back to",
                           field="name", code="nothing_to_roll_back")
        self.repo.set_traffic(row["id"], previous["traffic"], previous["previous_id"],
                              f"rollback to #{previous['id']}", self.clock.now(),
                              audit=self.audit_trail.event(
                                  "endpoint.rollback", "endpoint", name, before=row["traffic"],
                                  after=previous["traffic"]))
        return self.get(name)

    def traffic_history(self, name: str, limit: int = 20) -> list[dict]:
        row = self._endpoint(name)
        return [{"id": e["id"], "traffic": e["traffic"], "previous_id": e["previous_id"],
                 "reason": e["reason"], "created_at": isoformat(e["created_at"]),
                 "current": e["id"] == row["traffic_id"]}
                for e in self.repo.traffic_history(row["id"], max(1, min(limit, 500)))]

    # -- keys -----------------------------------------------------------------------------
    @audited("key.create", "endpoint")
    def create_key(self, name: str, label: str = "") -> dict:
        """A new API key. The key itself is in this answer only; the store keeps its hash."""
        row = self._endpoint(name)
        key_id, key, digest = new_key()
        now = self.clock.now()
        self.repo.add_key(row["id"], key_id, str(label)[:200], digest, now,
                          audit=self.audit_trail.event(   # the key itself never: only its id
                              "key.create", "key", key_id, after={"endpoint": name,
                                                                  "label": str(label)[:200]}))
        return {"key_id": key_id, "key": key, "label": label, "created_at": isoformat(now),
                "revoked_at": None}

    def list_keys(self, name: str) -> list[dict]:
        return [{"key_id": k["key_id"], "label": k["label"], "created_at": isoformat(k["created_at"]),
                 "revoked_at": isoformat(k["revoked_at"])}
                for k in self.repo.list_keys(self._endpoint(name)["id"])]

    @audited("key.revoke", "endpoint")
    def revoke_key(self, name: str, key_id: str) -> dict:
        row = self._endpoint(name)
        if not self.repo.revoke_key(row["id"], key_id, self.clock.now(),
                                    audit=self.audit_trail.event(
                                        "key.revoke", "key", key_id, before={"endpoint": name})):
            raise NotFound(f"endpoint {name!r} has no active key {key_id!r}", field="key_id")
        return next(k for k in self.list_keys(name) if k["key_id"] == key_id)

    # -- prediction log -------------------------------------------------------------------
    def predictions(self, name: str, *, limit: int = 50, offset: int = 0,
                    version: str | None = None, shadow: bool | None = None) -> dict:
        row = self._endpoint(name)
        items, total = self.repo.list_predictions(row["id"], max(1, min(limit, 1000)),
                                                  max(0, offset), version, shadow)
        return {"total": total, "items": [
            {"id": p["id"], "version": p["version"], "shadow": p["shadow"],
             "at": isoformat(p["at"]), "latency_ms": p["latency_ms"], "status": p["status"],
             "request_id": p["request_id"], "input": p["input"], "output": p["output"],
             "error": p["error"], "matches_primary": p["matches_primary"]} for p in items]}

    # -- scoring in this process ----------------------------------------------------------
    def score(self, target: str, request, *, version: str | None = None, path: str = "predict",
              options: dict | None = None) -> dict:
        """Run `request` through a scoring cell exactly as the server would (validation, batching
        shape, timeout, JSON answer), in this process. `target` is an endpoint name or a
        notebook path. Returns {"status", "body", "version", "latency_ms"}; setup failures
        raise InvalidInput (code setup_failed)."""
        from .calls import score_in_process

        loaded = self._load_in_process(target, version, options)
        started = time.perf_counter()
        outcome = score_in_process(loaded, request, loaded.options["debug"], path)
        return {"status": outcome.status, "body": outcome.json(), "version": loaded.version,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3)}

    def sample(self, target: str, *, version: str | None = None):
        """The sample request of an endpoint's (primary) version or of a notebook (None if it
        has none). Evaluates the notebook's setup only when the sample is not a literal."""
        spec = self._spec_of(target, version)[1]
        value = spec.static_sample()
        if value is MISSING and spec.sample:
            value = self._load_in_process(target, version, None).sample
        return None if value is MISSING else value

    def _load_in_process(self, target: str, version: str | None, options: dict | None):
        from .deadline import Deadline
        from .engine import LoadedVersion

        label, spec, workdir, opts, environment = self._spec_of(target, version, options)
        endpoint = target if not target.endswith(".ipynb") else name_from_notebook(target)
        key = (endpoint, label, spec.digest, str(workdir), repr(sorted(opts.items())),
               repr(environment))
        with self._lock:
            loaded = self._loaded.get(key)
            if loaded is None:
                if environment:  # a bundle's version served from its own environment
                    from .environments import EnvVersion

                    loaded = EnvVersion(endpoint, label, spec, workdir, opts, Deadline(),
                                        environment=environment,
                                        cwd=str(self.settings.root)).load()
                else:
                    loaded = LoadedVersion(endpoint, label, spec, workdir, opts,
                                           Deadline()).load()
                self._loaded[key] = loaded
                while len(self._loaded) > 8:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(key)
        return loaded

    def _spec_of(self, target: str, version: str | None, options: dict | None = None):
        if isinstance(target, str) and target.endswith(".ipynb"):
            rel, spec = self._spec_from_working(target)
            return "working", spec, self.settings.root, merge_options(None, options), None
        row = self._endpoint(target)
        label = version or primary_version(row["traffic"])
        if label is None:
            raise Conflict(f"endpoint {target!r} has no version taking traffic; name one",
                           field="version", code="no_version")
        found = self.repo.get_versions(row["id"], [label]).get(label)
        if found is None:
            raise NotFound(f"endpoint {target!r} has no version {label!r}", field="version")
        workdir = Path(found["workdir"]) if found["workdir"] else self.settings.root
        return label, ScoringSpec.from_dict(found["spec"]), workdir, \
            merge_options(row["options"], options), found.get("environment")

    # -- helpers --------------------------------------------------------------------------
    def _endpoint(self, name: str) -> dict:
        row = self.repo.get_endpoint(name) if isinstance(name, str) else None
        if row is None:
            raise NotFound(f"endpoint {name!r} does not exist", field="name")
        return row

    def _spec_from_working(self, notebook: str) -> tuple[str, ScoringSpec]:
        given = Path(str(notebook)).expanduser()
        if given.is_absolute():
            try:
                notebook = given.resolve().relative_to(self.settings.root).as_posix()
            except ValueError:
                raise InvalidInput(f"notebook {notebook} is outside the project "
                                   f"{self.settings.root}", field="notebook",
                                   code="path_outside_project") from None
        rel, absolute = relative_notebook_path(self.settings.root, notebook)
        return rel, read_scoring_notebook(absolute, rel)

    def _view(self, row: dict, servers: list[dict]) -> dict:
        traffic = row["traffic"]
        weights = (traffic or {}).get("weights", {})
        versions = []
        primary = None
        for v in self.repo.list_versions(row["id"]):
            spec = ScoringSpec.from_dict(v["spec"])
            view = {"version": v["version"], "source": v["source"], "notebook": v["notebook"],
                    "bundle_id": v["bundle_id"], "digest": v["digest"], "mode": spec.mode,
                    "created_at": isoformat(v["created_at"]), "status": v["status"],
                    "error": v["error"], "checked_at": isoformat(v["checked_at"]),
                    "weight": weights.get(v["version"], 0),
                    "shadow": (traffic or {}).get("shadow") == v["version"],
                    "live": v["version"] in live_versions(traffic),
                    "environment": environment_view(v.get("environment"))}
            versions.append(view)
            if v["version"] == primary_version(traffic):
                primary = spec
        options = merge_options(row["options"], None)
        sample = primary.static_sample() if primary else MISSING
        schema = options["input_schema"] or (
            record_schema(sample, options["batching"]["enabled"]) if sample is not MISSING else None)
        name = row["name"]
        return {"name": name, "description": row["description"],
                "created_at": isoformat(row["created_at"]), "updated_at": isoformat(row["updated_at"]),
                "revision": row["revision"], "options": options, "traffic": traffic,
                "mode": primary.mode if primary else None, "versions": versions,
                "keys": len(self.repo.active_key_hashes(row["id"])),
                "input_schema": schema, "sample": None if sample is MISSING else sample,
                "paths": {"predict": f"/{name}/predict", "invocations": f"/{name}/invocations",
                          "openapi": f"/{name}/openapi.json", "info": f"/{name}"},
                "servers": [{"server_id": s["server_id"], "url": s["url"]} for s in servers
                            if s["endpoints"] is None or name in s["endpoints"]]}


def _next_label(taken: set[str]) -> str:
    n = len(taken) + 1
    while f"v{n}" in taken:
        n += 1
    return f"v{n}"


def _bundle_label(bundle_id: str, taken: set[str]) -> str:
    text = str(bundle_id)
    if len(text) >= 32 and all(c in "0123456789abcdef" for c in text.lower()):
        text = text[:12]  # a content hash: its short form, as `git` shows commits
    base = "".join(c if c.isalnum() or c in "._-" else "-" for c in text)[:56].strip("-._")
    base = base or "bundle"
    label, n = base, 2
    while label in taken:
        label, n = f"{base}-{n}", n + 1
    return check_version(label)
