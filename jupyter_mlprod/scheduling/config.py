"""Scheduler settings: `[scheduler]` in mlprod.toml < MLPROD_SCHEDULER_* environment < keyword
arguments (what the server extension's traitlets or `mlprod scheduler` flags pass in).

| key | default | meaning |
|---|---|---|
| poll_interval | 1.0 | longest sleep of the loop, in seconds (it also wakes at the next due time) |
| max_concurrent_runs | 4 | scenario runs in flight at once across every project sharing the store |
| launcher | "runs" | "runs" (the run service: papermill) or "dry-run" (records a run only) |
| base_url | "http://localhost:8888" | where JupyterLab is reached, for links in reports |
| run_link | "{base_url}/lab?mlprod-run={run_id}" | the link to a run in the panel |
| report_attempts | 5 | sends of one report before it is given up (logged) |
| report_backoff | 5.0 | seconds before the first resend; doubles each time, capped at 600 |
| report_timeout | 10.0 | seconds for one HTTP or SMTP exchange |
| stop_timeout | 30.0 | on shutdown, how long running runs may finish before they are cancelled |
| reconcile_interval | 5.0 | how often runs whose process died are looked for |
"""
from __future__ import annotations

import dataclasses
import os

from ..errors import InvalidInput
from ..settings import CONFIG_FILE, _read_toml


@dataclasses.dataclass(frozen=True)
class SchedulerConfig:
    poll_interval: float = 1.0
    max_concurrent_runs: int = 4
    launcher: str = "runs"
    base_url: str = "http://localhost:8888"
    run_link: str = "{base_url}/lab?mlprod-run={run_id}"
    report_attempts: int = 5
    report_backoff: float = 5.0
    report_timeout: float = 10.0
    stop_timeout: float = 30.0
    reconcile_interval: float = 5.0

    @classmethod
    def load(cls, root, overrides: dict | None = None, environ=None) -> "SchedulerConfig":
        environ = os.environ if environ is None else environ
        table = _read_toml(root / CONFIG_FILE).get("scheduler", {})
        if not isinstance(table, dict):
            raise InvalidInput(f"{CONFIG_FILE} [scheduler] must be a table", field="scheduler")
        values: dict = {}
        for f in dataclasses.fields(cls):
            where = None
            if f.name in table:
                values[f.name], where = table[f.name], f"{CONFIG_FILE} [scheduler] {f.name}"
            env = environ.get(f"MLPROD_SCHEDULER_{f.name.upper()}")
            if env:
                values[f.name], where = env, f"MLPROD_SCHEDULER_{f.name.upper()}"
            if overrides and overrides.get(f.name) is not None:
                values[f.name], where = overrides[f.name], f.name
            if where:
                values[f.name] = _typed(values[f.name], type(f.default), where)
        unknown = set(overrides or {}) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InvalidInput(f"unknown scheduler setting {sorted(unknown)[0]!r}",
                               field=sorted(unknown)[0])
        config = cls(**values)
        config._validate()
        return config

    def _validate(self) -> None:
        checks = [("poll_interval", self.poll_interval >= 0.05), ("max_concurrent_runs",
                  self.max_concurrent_runs >= 1), ("report_attempts", self.report_attempts >= 1),
                  ("report_backoff", self.report_backoff >= 0), ("report_timeout",
                  self.report_timeout > 0), ("stop_timeout", self.stop_timeout >= 0),
                  ("reconcile_interval", self.reconcile_interval > 0)]
        for name, ok in checks:
            if not ok:
                raise InvalidInput(f"scheduler setting {name} is out of range "
                                   f"({getattr(self, name)!r})", field=name)
        if not self.base_url.startswith(("http://", "https://")):
            raise InvalidInput("scheduler setting base_url must be an http(s) URL",
                               field="base_url")
        if "{run_id}" not in self.run_link:
            raise InvalidInput("scheduler setting run_link must contain {run_id}", field="run_link")

    def link(self, run_id) -> str | None:
        if run_id is None:
            return None
        return self.run_link.replace("{base_url}", self.base_url.rstrip("/")).replace(
            "{run_id}", str(run_id))


def _typed(value, kind: type, where: str):
    try:
        if kind is bool or isinstance(value, bool) and kind is not str:
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} must be a {kind.__name__}, not {value!r}",
                           field=where) from None
