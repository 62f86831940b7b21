"""What a production node runs for its active bundle: a Project opened on the active
deployment's tree, its scenarios run by the scheduler (and, once serving lands, its endpoints).

`sync()` makes the running runtime match the store's active deployment: after an activation
or a rollback it stops the old bundle's scheduler/endpoints and starts the new bundle's. The
node calls it after every activation it performs and every few seconds (so a deploy to the
node's folder by another process is picked up too)."""
from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path
from ..words import counted
from .environments import use_environments

log = logging.getLogger(__name__)

# (slot, module, class): each class is built with the deployment's Project and has
# start() / stop(). A module that is not installed is reported as unavailable.
RUNTIMES = (("scheduler", "jupyter_mlprod.scheduling", "Scheduler"),)
_DEFINITIONS = (("scenarios", "scenarios"),)


class ActiveRuntime:
    def __init__(self, service, *, start_services: bool = True):
        self.service = service
        self.start_services = start_services
        self.deployment: dict | None = None
        self.project = None
        self.services: dict[str, object] = {}
        self.status: dict[str, str] = {}
        self.notes: list[str] = []
        self._lock = threading.RLock()

    def sync(self) -> dict:
        active = self.service.active()
        with self._lock:
            current = self.deployment["id"] if self.deployment else None
            if (active["id"] if active else None) != current:
                self._stop()
                if active:
                    try:
                        self._start(active)
                    except Exception as exc:  # the node keeps serving its API to allow a rollback
                        log.exception("could not start deployment %s", active["id"])
                        self.status = {"runtime": f"failed: {exc}"}
                        self.deployment = active
            return self.describe()

    def describe(self) -> dict:
        with self._lock:
            return {"deployment_id": self.deployment["id"] if self.deployment else None,
                    "bundle_id": self.deployment["bundle_id"] if self.deployment else None,
                    "services": dict(self.status), "notes": list(self.notes)}

    def require_project(self):
        from ..errors import Conflict

        with self._lock:
            if self.project is None:
                raise Conflict(f"nothing is deployed on {self.service.node_name} yet",
                               field="deployment", code="nothing_deployed")
            return self.project

    def _start(self, deployment: dict) -> None:
        from ..project import Project

        tree = Path(deployment["path"])
        manifest = _manifest(tree)
        store_url = self.service.config.get("deployment_store_url") or \
            f"sqlite:///{tree / '.mlprod' / 'mlprod.db'}"
        kernel = (deployment.get("environment") or {}).get("kernel")
        if kernel:  # deployed with its own environment (env=recreate): its steps run there
            use_environments(self.service.project.settings.state_dir)
        project = Project(tree, store_url=store_url, name=manifest["project"],
                          environment_kernel=kernel or None)
        self.project, self.deployment, self.notes = project, deployment, []
        self._import_definitions(project, manifest, tree)
        self.status = {}
        for slot, module_name, class_name in RUNTIMES:
            if not self.start_services:
                self.status[slot] = "disabled"
                continue
            try:
                cls = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError):
                self.status[slot] = f"unavailable ({module_name}.{class_name} is not installed)"
                log.info("%s: %s is not available in this version; not started", slot, module_name)
                continue
            try:
                runtime = cls(project)
                runtime.start()
                self.services[slot] = runtime
                self.status[slot] = "running"
            except Exception as exc:
                log.exception("could not start the %s of deployment %s", slot, deployment["id"])
                self.status[slot] = f"failed: {exc}"
        if self.start_services:
            self.status["endpoints"] = self._switch_endpoints(tree, deployment["bundle_id"],
                                                              deployment.get("environment"))
        log.info("deployment %s (bundle %s) is live: %s", deployment["id"],
                 deployment["bundle_id"][:12], self.status)

    def _switch_endpoints(self, tree: Path, bundle_id: str, environment: dict | None) -> str:
        """Endpoints live in the NODE's store (their versions and traffic outlast a swap): the
        bundle's scoring notebooks become the endpoints' live version, labelled by bundle id;
        a server started on the node picks the switch up (and rolls back the same way)."""
        try:
            endpoints = self.service.project.endpoints
        except ImportError:
            return "unavailable (jupyter_mlprod.serving is not installed)"
        if not callable(getattr(endpoints, "deploy_bundle", None)):
            return "unavailable (the endpoint service cannot deploy bundles)"
        try:
            # deployed with its own environment: the endpoints are served from it too
            switched = endpoints.deploy_bundle(tree, bundle_id, environment=environment)
        except Exception as exc:
            log.exception("could not switch the endpoints to bundle %s", bundle_id[:12])
            return f"failed: {exc}"
        return f"{counted(len(switched), 'endpoint')} on bundle {bundle_id[:12]}" if switched else \
            "none in this bundle"

    def _import_definitions(self, project, manifest: dict, tree: Path) -> None:
        """Give the deployment's project the bundle's scenarios and endpoints, once per tree."""
        marker = tree / ".mlprod" / "bundle" / "definitions-imported"
        if marker.exists():
            return
        for key, attr in _DEFINITIONS:
            items = manifest.get(key) or []
            if not items:
                continue
            try:
                service = getattr(project, attr)
            except ImportError:
                self.notes.append(f"{len(items)} {key} in the bundle were not loaded: "
                                  f"jupyter_mlprod.{attr} is not available on this node")
                continue
            try:
                loaded = _import(service, items)
            except Exception as exc:
                log.exception("could not load the bundle's %s", key)
                self.notes.append(f"the bundle's {key} could not be loaded: {exc}")
                continue
            if loaded is None:
                self.notes.append(f"{len(items)} {key} in the bundle were not loaded: the {attr} "
                                  "service cannot import definitions")
        marker.write_text("ok\n")

    def _stop(self) -> None:
        for slot, runtime in list(self.services.items()):
            try:
                runtime.stop()
                self.status[slot] = "stopped"
            except Exception:
                log.exception("could not stop the %s", slot)
        self.services.clear()
        old, self.project, self.deployment = self.project, None, None
        if old is not None:
            threading.Thread(target=_retire, args=(old,), name="mlprod-retire", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            project = self.project
            for slot, runtime in list(self.services.items()):
                try:
                    runtime.stop()
                except Exception:
                    log.exception("could not stop the %s", slot)
            self.services.clear()
            self.project = self.deployment = None
        if project is not None:
            project.close()


def _import(service, items: list) -> int | None:
    """Replace the service's definitions with the bundle's: import_definitions(items,
    replace=True) when the service has it, else remove every existing one and create each."""
    if callable(getattr(service, "import_definitions", None)):
        service.import_definitions(items, replace=True)
        return len(items)
    if not (callable(getattr(service, "create", None)) and callable(getattr(service, "list", None))
            and callable(getattr(service, "remove", None))):
        return None
    for existing in service.list():
        service.remove(existing["name"])
    for item in items:
        service.create(item)
    return len(items)


def _retire(project) -> None:
    """Let the old bundle's in-flight runs finish in its own tree, then release it."""
    try:
        for run in project.repo.active_runs():
            project.runs.wait(run["id"], timeout=3600)
    finally:
        project.close()


def _manifest(tree: Path) -> dict:
    import json

    return json.loads((tree / ".mlprod" / "bundle" / "manifest.json").read_bytes())
