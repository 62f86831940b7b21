"""Run records as the JSON shapes of the REST contract (and the CLI's --json)."""
from __future__ import annotations

from ..clock import isoformat


def _duration(start, end) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def step_run_view(row: dict) -> dict:
    error = None
    if row.get("error_ename"):
        error = {"cell_index": row.get("error_cell_index"),
                 "execution_count": row.get("error_execution_count"),
                 "cell_source": row.get("error_cell_source"), "ename": row["error_ename"],
                 "evalue": row.get("error_evalue")}
    cell = None
    if row.get("cell_count") is not None or row.get("cell_index") is not None:
        cell = {"index": row.get("cell_index"), "count": row.get("cell_count")}
    return {"step": row["step"], "path": row["path"], "status": row["status"],
            "attempt": row["attempt"], "started_at": isoformat(row["started_at"]),
            "finished_at": isoformat(row["finished_at"]),
            "duration": _duration(row["started_at"], row["finished_at"]),
            "parameters": row.get("parameters") or {}, "cell": cell, "reason": row.get("reason"),
            "error": error, "has_output": bool(row.get("output_path"))}


def run_view(row: dict) -> dict:
    view = {"id": row["id"], "status": row["status"], "trigger": row["trigger"],
            "created_by": row.get("created_by"), "created_at": isoformat(row["created_at"]),
            "started_at": isoformat(row["started_at"]), "finished_at": isoformat(row["finished_at"]),
            "duration": _duration(row["started_at"], row["finished_at"]),
            "parameters": row.get("parameters") or {},
            "selection": row.get("selection") or {"steps": None, "from": None},
            "force": bool(row.get("force")), "resumed_from": row.get("resumed_from"),
            "error": row.get("error"), "scenario_id": row.get("scenario_id")}
    if "steps" in row:
        view["steps"] = [step_run_view(s) for s in row["steps"]]
    return view
