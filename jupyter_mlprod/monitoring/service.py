"""The metric service: records a step run's metrics (logged in the notebook + data probes),
judges its checks, and answers history questions. The run service calls `after_step` from the
run's own thread (never the server's event loop); the doors call the readers through Project."""
from __future__ import annotations

import logging
from pathlib import Path

from ..clock import Clock, isoformat
from ..errors import InvalidInput, NotFound
from .checks import CheckResult, evaluate, worst
from .notebook_metrics import read_logged_metrics

log = logging.getLogger(__name__)
MAX_LAST = 500
REPORT_METRICS = 12   # logged metrics a report carries (probes stay in the run's page)


class MetricService:
    def __init__(self, repo, run_repo, root: Path, clock: Clock):
        self.repo = repo
        self.run_repo = run_repo
        self.root = root
        self.clock = clock

    # -- recording (run thread) -----------------------------------------------------------
    def after_step(self, run_id: int, spec, output_notebook: Path) -> str | None:
        """Record the step run's metrics and check outcomes; the message of the first ERROR
        check (the step then fails), else None."""
        from .probes import probe_outputs

        logged = read_logged_metrics(output_notebook)
        rows = [{"name": n, "value": v, "source": "logged", "note": None} for n, v in logged.items()]
        rows += probe_outputs(self.root, spec.outputs, spec.probes)
        now = self.clock.now()
        self.repo.record(run_id, spec.name, rows, now)
        if not spec.checks:
            return None
        results = self.judge(run_id, spec.name, spec.checks, rows)
        self.repo.record_checks(run_id, spec.name, [r.to_dict() for r in results], now)
        errors = [r for r in results if r.outcome == "ERROR"]
        if not errors:
            return None
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"check failed: {errors[0].message}{more}"

    def judge(self, run_id: int, step: str, checks, rows: list[dict]) -> list[CheckResult]:
        values = {r["name"]: r for r in rows}
        drops = [c["metric"] for c in checks if any(k.endswith("_drop") for k in c)]
        previous = self.repo.previous_values(step, drops, run_id) if drops else {}
        results = []
        for i, check in enumerate(checks):
            row = values.get(check["metric"])
            results.append(evaluate(i, check, row["value"] if row else None,
                                    missing_reason=row["note"] if row else None,
                                    previous=previous.get(check["metric"])))
        return results

    # -- reading (doors) ------------------------------------------------------------------
    def run_metrics(self, run_id, step: str | None = None) -> dict:
        run = self._run(run_id)
        if step is not None and not isinstance(step, str):
            raise InvalidInput("step must be a step name", field="step")
        if step is not None and not any(s["step"] == step for s in run["steps"]):
            raise NotFound(f"run {run['id']} has no step {step!r}", field="step")
        return {"run_id": run["id"], "metrics": [_metric_view(r) for r in
                                                 self.repo.for_run(run["id"], step)]}

    def run_checks(self, run_id) -> dict:
        run = self._run(run_id)
        checks = [_check_view(r) for r in self.repo.checks_for_run(run["id"])]
        return {"run_id": run["id"], "outcome": worst(c["outcome"] for c in checks),
                "checks": checks}

    def history(self, step: str, metric: str | None = None, last: int = 20) -> dict:
        from ..notebooks.steps import STEP_NAME

        if not isinstance(step, str) or not STEP_NAME.match(step):
            raise InvalidInput(f"step {step!r} is not a step name", field="step")
        if metric is not None and (not isinstance(metric, str) or not 0 < len(metric) <= 400):
            raise InvalidInput("metric must be a metric name of 1 to 400 characters",
                               field="metric")
        if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= MAX_LAST:
            raise InvalidInput(f"last must be a whole number from 1 to {MAX_LAST}", field="last")
        series: dict[str, list] = {}
        sources: dict[str, str] = {}
        for row in self.repo.history(step, metric, last):
            sources[row["name"]] = row["source"]
            series.setdefault(row["name"], []).append({
                "run_id": row["run_id"], "value": row["value"], "note": row["note"],
                "at": isoformat(row["at"]), "run_status": row["run_status"],
                "step_status": row["step_status"], "parameters": row["parameters"] or {}})
        return {"step": step, "metric": metric,
                "series": [{"metric": name, "source": sources[name],
                            "points": points} for name, points in series.items()]}

    def latest_checks(self) -> dict[str, dict]:
        """Per step: the outcome of the checks of its newest judged step run (DAG badges)."""
        return {step: {"run_id": entry["run_id"], "outcome": worst(entry["outcomes"]),
                       "counts": {o: entry["outcomes"].count(o) for o in set(entry["outcomes"])}}
                for step, entry in self.repo.latest_check_outcomes().items()}

    def report(self, run_id: int) -> dict:
        """What a scenario's report says about a run: its key metrics and check outcomes."""
        metrics = [r for r in self.repo.for_run(run_id) if r["source"] == "logged"]
        checks = [_check_view(r) for r in self.repo.checks_for_run(run_id)]
        return {"metrics": [_metric_view(r) for r in metrics[:REPORT_METRICS]],
                "checks": checks, "outcome": worst(c["outcome"] for c in checks)}

    def trend_chart(self, step: str, metric: str | None = None, last: int = 20) -> dict:
        from .trend import trend_spec

        return trend_spec(self.history(step, metric, last))

    def _run(self, run_id) -> dict:
        try:
            number = int(run_id)
        except (TypeError, ValueError):
            raise InvalidInput(f"run id must be a number, got {run_id!r}", field="run") from None
        row = self.run_repo.get_run(number) if 0 < number < 2**31 else None
        if row is None:
            raise NotFound(f"run {run_id} does not exist", field="run")
        return row


def _metric_view(row: dict) -> dict:
    return {"step": row["step"], "name": row["name"], "value": row["value"],
            "source": row["source"], "note": row["note"], "at": isoformat(row["at"])}


def _check_view(row: dict) -> dict:
    return {"step": row["step"], "position": row["position"], "metric": row["metric"],
            "check": row["spec"], "outcome": row["outcome"], "value": row["value"],
            "message": row["message"], "at": isoformat(row["at"])}
