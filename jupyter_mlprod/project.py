"""The one facade the three doors call: `Project(root, settings)` -> every action, once."""
from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from .audit import AuditTrail, audited
from .clock import SYSTEM_CLOCK, Clock
from .errors import InvalidInput, NotFound
from .notebooks import NotebookIndex, parse_step, read_notebook, write_notebook_atomic
from .notebooks.parameters import infer_parameters
from .notebooks.steps import relative_notebook_path
from .paths import resolve_inside
from .pipelines import Pipeline, RunService
from .pipelines.executors import create_executor
from .settings import Settings
from .store import RunRepository, create_store_engine, migrate


class Project:
    def __init__(self, root: str | Path | None = None, settings: Settings | None = None, *,
                 clock: Clock = SYSTEM_CLOCK, **overrides):
        self.settings = settings or Settings.load(root or ".", overrides)
        self.root = self.settings.root
        self.clock = clock
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.engine = create_store_engine(self.settings.store_url)
        migrate(self.engine)
        self.repo = RunRepository(self.engine, self.settings.name)
        self.audit_trail = AuditTrail(self.engine, self.settings.name, clock)
        self.notebooks = NotebookIndex(self.root)
        self._tag_lock = threading.Lock()
        self.runs = RunService(self.settings, self.repo, self.pipeline,
                               lambda: create_executor(self.settings.executor, self.settings), clock,
                               audit_trail=self.audit_trail,
                               after_step=lambda *args: self.metrics.after_step(*args),
                               before_step=lambda *args: self.drift.before_step(*args))

    @classmethod
    def create(cls, root: str | Path, *, name: str | None = None, store_url: str | None = None,
               executor: str | None = None, clock: Clock = SYSTEM_CLOCK) -> "Project":
        """Make `root` a project: write mlprod.toml and create the store. Refuses an existing
        project; on any failure nothing it wrote is left behind."""
        import json
        import shutil

        from .errors import Conflict
        from .settings import CONFIG_FILE

        root = Path(root).expanduser().resolve()
        config = root / CONFIG_FILE
        if config.exists():
            raise Conflict(f"{config} already exists; this folder is already a project",
                           field="dir")
        if root.exists() and not root.is_dir():
            raise InvalidInput(f"{root} is not a folder", field="dir")
        name = (root.name if name is None else name).strip()
        if not name:
            raise InvalidInput("the project name cannot be empty", field="name")
        lines = ["[project]", f"name = {json.dumps(name)}", "", "[runs]",
                 f"executor = {json.dumps(executor or 'local')}  # or \"dask\""]
        if store_url:
            lines += ["", "[store]", f"url = {json.dumps(store_url)}"]
        created_root = not root.exists()
        root.mkdir(parents=True, exist_ok=True)
        try:
            Settings.load(root, {"store_url": store_url, "executor": executor})  # refuse bad values
            config.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return cls(root, clock=clock)   # creates .mlprod/ and the store's tables
        except BaseException:
            config.unlink(missing_ok=True)
            if created_root:
                shutil.rmtree(root / ".mlprod", ignore_errors=True)
                try:
                    root.rmdir()
                except OSError:
                    pass
            raise

    # -- capability services (imported lazily: a CLI call pays only for what it uses) -----
    @cached_property
    def scenarios(self):
        from .scheduling import ScenarioService

        return ScenarioService(self)

    @cached_property
    def bundles(self):
        from .bundles import BundleService

        return BundleService(self)

    @cached_property
    def metrics(self):
        from .monitoring import MetricService
        from .store.metrics import MetricRepository

        return MetricService(MetricRepository(self.engine, self.settings.name), self.repo,
                             self.root, self.clock)

    @cached_property
    def scenario_runs(self):
        from .scheduling.steps.service import ScenarioRunService

        return ScenarioRunService(self)

    @cached_property
    def endpoints(self):
        from .serving import EndpointService

        return EndpointService(self)

    @cached_property
    def drift(self):
        from .monitoring.drift_service import DriftService
        from .store.drift import DriftRepository

        return DriftService(DriftRepository(self.engine, self.settings.name), self.endpoints.repo,
                            self.root, self.settings.state_dir / "predlog", self.clock)

    # -- pipeline -------------------------------------------------------------------------
    def pipeline(self) -> Pipeline:
        return Pipeline(self.root, self.notebooks.scan())

    def pipeline_view(self) -> dict:
        pipeline = self.pipeline()
        self.runs.close_orphans()  # a dead run's steps must not show as running
        latest = self.repo.latest_statuses()
        view = pipeline.to_dict()
        checks = self.metrics.latest_checks()
        for step in view["steps"]:
            step["parameters"] = [p.to_dict() for p in pipeline.notebooks[step["path"]].parameters]
            last = latest.get(step["name"])
            step["latest"] = None if last is None else {
                "run_id": last["run_id"], "status": last["status"],
                "finished_at": last["finished_at"].isoformat().replace("+00:00", "Z")
                if last["finished_at"] else None}
            step["latest_checks"] = checks.get(step["name"])
        return view

    # -- steps (tagging) ------------------------------------------------------------------
    def get_step(self, path: str) -> dict:
        rel, absolute = relative_notebook_path(self.root, path)
        nb = read_notebook(absolute, rel)
        raw = nb.get("metadata", {}).get("mlprod")
        step = parse_step(raw, rel).to_dict() if raw is not None else None
        if step:
            step.pop("path")
        return {"path": rel, "step": step, "parameters": [p.to_dict() for p in infer_parameters(nb)]}

    @audited("step.tag", "step")
    def tag_step(self, path: str, body: dict) -> dict:
        """Tag or edit; refused (nothing written) if it would clash with the other steps."""
        rel, absolute = relative_notebook_path(self.root, path)
        if not isinstance(body, dict):
            raise InvalidInput("the step must be an object with a name", field="step")
        spec = parse_step(body, rel, field_prefix="step")
        for key in ("inputs", "outputs"):  # a symlink out of the project is no step path
            for pattern in getattr(spec, key):
                resolve_inside(self.root, pattern, f"step.{key}")
        with self._tag_lock:
            nb = read_notebook(absolute, rel)
            others = [info for info in self.notebooks.scan() if info.path != rel]
            for info in others:
                if info.step and info.step.name == spec.name:
                    raise InvalidInput(f"step name {spec.name!r} is already used by {info.path}",
                                       field="step.name", code="duplicate_step")
            before = Pipeline(self.root, others)
            after = Pipeline(self.root, others + [_with_step(self.notebooks.info(absolute), spec)])
            old = {(p.code, p.message) for p in before.problems}
            for problem in after.problems:
                if problem.code in ("cycle", "unknown_step", "duplicate_output") and \
                        (problem.code, problem.message) not in old:
                    raise problem.error()
            before = nb.get("metadata", {}).get("mlprod")
            nb.setdefault("metadata", {})["mlprod"] = spec.metadata()
            write_notebook_atomic(absolute, nb)
            self.notebooks.forget(rel)
            # The change is a file (no SQL transaction to share): the event follows the atomic
            # rename, so it never records a change that did not land.
            self.audit_trail.record("step.tag", object_type="step", object_id=rel,
                                    before=before, after=spec.metadata())
        return self.get_step(rel)

    @audited("step.untag", "step")
    def untag_step(self, path_or_name: str) -> str:
        rel = self._resolve_step_path(path_or_name)
        _, absolute = relative_notebook_path(self.root, rel)
        with self._tag_lock:
            nb = read_notebook(absolute, rel)
            if "mlprod" not in nb.get("metadata", {}):
                raise NotFound(f"{rel} is not tagged as a step", field="path")
            before = nb["metadata"].pop("mlprod")
            write_notebook_atomic(absolute, nb)
            self.notebooks.forget(rel)
            self.audit_trail.record("step.untag", object_type="step", object_id=rel,
                                    before=before)  # after the atomic write, as in tag_step
        return rel

    def _resolve_step_path(self, value: str) -> str:
        if isinstance(value, str) and value.endswith(".ipynb"):
            return relative_notebook_path(self.root, value)[0]
        return self.pipeline().step(value).path

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, **kwargs) -> dict:
        return self.runs.start(**kwargs)

    def resume_run(self, run_id: int, **kwargs) -> dict:
        return self.runs.resume(run_id, **kwargs)

    def cancel_run(self, run_id: int) -> dict:
        return self.runs.cancel(run_id)

    def get_run(self, run_id: int) -> dict:
        return self.runs.get(run_id)

    def list_runs(self, limit: int = 50, offset: int = 0) -> dict:
        return self.runs.list(limit, offset)

    def wait_run(self, run_id: int, timeout: float | None = None) -> dict:
        return self.runs.wait(run_id, timeout)

    def output_notebook(self, run_id: int, step: str, fmt: str = "ipynb") -> tuple[str, str]:
        """The executed notebook of a step run, as (content type, text)."""
        if fmt not in ("ipynb", "html"):
            raise InvalidInput("format must be ipynb or html", field="format")
        path = self._step_file(run_id, step, ".ipynb")
        if fmt == "ipynb":
            return "application/x-ipynb+json", path.read_text(encoding="utf-8")
        import nbformat
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter(template_name="lab").from_notebook_node(
            nbformat.read(str(path), as_version=4))
        return "text/html", body

    def step_output_path(self, run_id: int, step: str) -> Path:
        """Where the executed notebook of a step run is on disk (NotFound if it did not run)."""
        return self._step_file(run_id, step, ".ipynb")

    def step_log(self, run_id: int, step: str) -> str:
        return self._step_file(run_id, step, ".log").read_text(encoding="utf-8", errors="replace")

    def _step_file(self, run_id: int, step: str, suffix: str) -> Path:
        run = self.get_run(run_id)
        if not any(s["step"] == step for s in run["steps"]):
            raise NotFound(f"run {run_id} has no step {step!r}", field="step")
        path = self.settings.runs_dir / str(run["id"]) / f"{step}{suffix}"
        if not path.exists():
            raise NotFound(f"step {step!r} of run {run_id} has no {suffix[1:]} (it did not execute)",
                           field="step")
        return path

    def close(self) -> None:
        if "endpoints" in self.__dict__:  # only if this process started serving
            self.endpoints.close()
        self.runs.shutdown()
        self.engine.dispose()


def _with_step(info, spec):
    import dataclasses

    return dataclasses.replace(info, step=spec, problem=None)
