"""`mlprod metrics [STEP] [--metric NAME] [--last N]` and `mlprod checks RUN`."""
from __future__ import annotations

from .output import text_table
from .output_metrics import (CHECK_HEADERS, HISTORY_HEADERS, METRIC_HEADERS, check_rows,
                             history_rows, metric_rows)


def register(command, sub=None, common=None) -> None:
    p = command("metrics", cmd_metrics, "a step's metrics across its recent runs; without STEP, "
                "every metric of the latest run")
    args_metrics(p)
    p = command("checks", cmd_checks, "the outcomes of a run's checks (OK, WARNING, ERROR, EMPTY)")
    p.add_argument("run", metavar="RUN", help="run id")


def args_metrics(p) -> None:
    p.add_argument("step", metavar="STEP", nargs="?", help="step name")
    p.add_argument("--metric", metavar="NAME", help="only this metric")
    p.add_argument("--last", type=int, default=10, metavar="N",
                   help="how many of the step's most recent runs (default 10)")


def metrics_data(project, ns) -> tuple[dict, str]:
    """What `metrics` shows, as (data, text): one step's history, or the latest run's metrics."""
    if ns.step:
        history = project.metrics.history(ns.step, ns.metric, ns.last)
        rows = history_rows(history)
        empty = f"step {ns.step} has recorded no metric" + (f" {ns.metric}" if ns.metric else "")
        return history, text_table(HISTORY_HEADERS, rows) if rows else empty
    runs = project.list_runs(limit=1)["runs"]
    if not runs:
        return {"run_id": None, "metrics": []}, "no runs yet"
    data = project.metrics.run_metrics(runs[0]["id"])
    if ns.metric:
        data["metrics"] = [m for m in data["metrics"] if m["name"] == ns.metric]
    rows = metric_rows(data["metrics"])
    return data, (f"run {data['run_id']}\n" + text_table(METRIC_HEADERS, rows) if rows
                  else f"run {data['run_id']} recorded no metrics")


def cmd_metrics(ctx) -> int:
    data, text = metrics_data(ctx.project, ctx.ns)
    ctx.emit(data, text)
    return 0


def check_lines(checks: dict) -> list[str]:
    if not checks["checks"]:
        return ["no checks were judged in this run"]
    return [f"checks: {checks['outcome']}", text_table(CHECK_HEADERS, check_rows(checks["checks"]))]


def cmd_checks(ctx) -> int:
    checks = ctx.project.metrics.run_checks(ctx.ns.run)
    ctx.emit(checks, "\n".join(check_lines(checks)))
    return 0
