"""Text shapes of metrics and check results, shared by `mlprod` and `%mlprod`."""
from __future__ import annotations

from .output import fmt_time, one_line

METRIC_HEADERS = ["step", "metric", "value", "source", "note"]
HISTORY_HEADERS = ["run", "metric", "value", "step status", "at"]
CHECK_HEADERS = ["step", "metric", "outcome", "value", "message"]


def fmt_number(value) -> str:
    return "-" if value is None else f"{value:.6g}"


def metric_rows(metrics: list[dict], name: str | None = None) -> list[list[str]]:
    return [[m["step"], m["name"], fmt_number(m["value"]), m["source"], one_line(m["note"] or "", 60)]
            for m in metrics if name is None or m["name"] == name]


def history_rows(history: dict) -> list[list[str]]:
    rows = []
    for series in history["series"]:
        for point in series["points"]:
            rows.append([str(point["run_id"]), series["metric"], fmt_number(point["value"]),
                         point["step_status"] or "-", fmt_time(point["at"])])
    return sorted(rows, key=lambda r: (int(r[0]), r[1]))


def check_rows(checks: list[dict]) -> list[list[str]]:
    return [[c["step"], c["metric"], c["outcome"], fmt_number(c["value"]), one_line(c["message"], 90)]
            for c in checks]
