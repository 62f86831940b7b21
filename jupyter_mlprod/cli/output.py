"""What the doors show: rows for steps, runs and step runs, as plain text tables or JSON.

The row builders are shared by the CLI (text) and the magic (HTML + text), so a column means
the same thing in both. They only format data the core returned; they decide nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

ACTIVE = ("queued", "running")


# -- formatting of single values --------------------------------------------------------------
def fmt_time(value: str | None) -> str:
    """An ISO timestamp from a view, in local time, to the second."""
    if not value:
        return ""
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_time_in(value: str | None, zone_name: str | None) -> str:
    """An ISO timestamp in the given IANA zone (a scenario's), labelled with it:
    `2026-12-03 06:00:00 Europe/Paris`; without a zone, local time labelled with its name."""
    if not value:
        return ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    shown = when.astimezone(zone)
    return f"{shown.strftime('%Y-%m-%d %H:%M:%S')} {zone_name if zone else shown.tzname()}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def fmt_params(params: dict | None) -> str:
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in (params or {}).items())


def fmt_error(error: dict | None) -> str:
    """`cell In [3]: ValueError: boom` from a step run's error: the cell as the output notebook
    numbers it (`cell index 2` for runs recorded before execution counts were kept)."""
    if not error:
        return ""
    text = f"{error.get('ename')}: {error.get('evalue')}" if error.get("evalue") else \
        str(error.get("ename"))
    if error.get("execution_count") is not None:
        text = f"cell In [{error['execution_count']}]: {text}"
    elif error.get("cell_index") is not None:
        text = f"cell index {error['cell_index']}: {text}"
    return text


def fmt_error_cell(error: dict | None) -> str:
    """`cell In [3]: model.fit(X, y)`: the failing cell, to find it in the output notebook."""
    if not error or error.get("execution_count") is None:
        return ""
    return f"cell In [{error['execution_count']}]: {error.get('cell_source') or ''}".rstrip()


def fmt_progress(step: dict) -> str:
    """`cell 3/6` while a step runs (1-based, counting every cell papermill executes)."""
    cell = step.get("cell") or {}
    if step.get("status") != "running" or cell.get("count") is None:
        return ""
    index = cell.get("index")
    return f"cell {0 if index is None else index + 1}/{cell['count']}"


def display_path(path: str | os.PathLike) -> str:
    """Relative to the current folder when below it, else absolute."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def one_line(text: str, limit: int | None = None) -> str:
    flat = " ".join(str(text).split())
    if limit and len(flat) > limit:
        return flat[:limit - 1] + "…"
    return flat


# -- rows -------------------------------------------------------------------------------------
STEP_HEADERS = ["step", "notebook", "inputs", "outputs", "after", "latest"]


def step_rows(view: dict) -> list[list[str]]:
    rows = []
    for step in view["steps"]:
        latest = step.get("latest")
        rows.append([step["name"], step["path"], ", ".join(step["inputs"]),
                     ", ".join(step["outputs"]), ", ".join(step["after"]),
                     f"{latest['status']} (run {latest['run_id']})" if latest else "never run"])
    return rows


RUN_HEADERS = ["id", "status", "trigger", "started", "duration", "parameters"]


def run_rows(runs: list[dict]) -> list[list[str]]:
    return [[str(r["id"]), r["status"], r["trigger"], fmt_time(r["started_at"] or r["created_at"]),
             fmt_duration(r["duration"]), fmt_params(r["parameters"])] for r in runs]


STEP_RUN_HEADERS = ["step", "status", "attempt", "duration", "reason", "error", "output"]


def step_run_rows(run: dict, outputs: dict[str, str]) -> list[list[str]]:
    """`outputs`: step -> displayable path of its executed notebook (steps that executed)."""
    return [[s["step"], s["status"], str(s["attempt"]), fmt_duration(s["duration"]),
             one_line(s["reason"] or "", 60), one_line(fmt_error(s["error"]), 80),
             outputs.get(s["step"], "")] for s in run["steps"]]


def output_paths(project, run: dict) -> dict[str, str]:
    """step -> path of the executed notebook, for the steps of `run` that executed."""
    paths = {}
    for step in run.get("steps", []):
        if step.get("has_output"):
            try:
                path = project.step_output_path(run["id"], step["step"])
                paths[step["step"]] = display_path(path)
            except Exception:  # noqa: BLE001 - the file was removed by hand: show nothing
                continue
    return paths


def run_summary(run: dict) -> str:
    counts: dict[str, int] = {}
    for step in run.get("steps", []):
        counts[step["status"]] = counts.get(step["status"], 0) + 1
    detail = ", ".join(f"{n} {status}" for status, n in counts.items())
    took = f" in {fmt_duration(run['duration'])}" if run.get("duration") is not None else ""
    return f"run {run['id']} {run['status']}{took}" + (f" ({detail})" if detail else "")


def failure_lines(run: dict, outputs: dict[str, str]) -> list[str]:
    """What to look at when a run did not succeed: each failed step, its error and notebook."""
    lines = []
    for step in run.get("steps", []):
        if step["status"] == "failed":
            what = fmt_error(step["error"]) or step["reason"] or "no error recorded"
            lines.append(f"step {step['step']} failed: {what}")
            if fmt_error_cell(step["error"]):
                lines.append(f"  {fmt_error_cell(step['error'])}")
        elif step["status"] == "cancelled":
            lines.append(f"step {step['step']} cancelled")
        else:
            continue
        if step["step"] in outputs:
            lines.append(f"  output notebook: {outputs[step['step']]}")
    if not lines and run.get("error"):
        lines.append(run["error"])
    return lines


# -- text tables ------------------------------------------------------------------------------
def text_table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "  ".join(headers).upper()
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(headers[i]), *(len(row[i]) for row in cells)) for i in range(len(headers))]
    # drop trailing columns that are empty everywhere
    while len(widths) > 1 and all(not row[len(widths) - 1] for row in cells):
        widths.pop()
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def dump_json(data) -> str:
    return json.dumps(data, indent=2, default=str)
