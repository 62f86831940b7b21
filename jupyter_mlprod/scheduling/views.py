"""Scenario and fire records as the JSON of the REST contract (and the CLI's --json)."""
from __future__ import annotations

from ..clock import isoformat
from ..errors import InvalidInput
from ..masking import restore_headers
from .finishing import trigger_text
from .reporters import get_reporter
from .triggers import get_trigger
from .triggers.timed import parse_time

# keys of a scenario view that are not part of its spec (ignored when a view is sent back)
READ_ONLY = ("id", "created_at", "updated_at", "created_by", "updated_by", "next_fire_at",
             "trigger_status", "last", "last_outcome", "active_run_id", "waiting")


def _public_trigger(spec):
    return get_trigger(spec["type"]).public(spec) if spec else spec


def _public_reporter(spec):
    return get_reporter(spec["type"]).public(spec) if spec else spec


def public_spec(spec: dict | None) -> dict | None:
    """A normalised spec with its secrets masked (what validation hands back)."""
    if spec is None:
        return None
    return dict(spec, triggers=[_public_trigger(t) for t in spec["triggers"]],
                reporters=[_public_reporter(r) for r in spec["reporters"]])


def restore_secrets(spec: dict, stored: dict) -> dict:
    """A view sent back carries masked secrets: keep the stored value where it is unchanged."""
    out = dict(spec)
    for key, getter in (("triggers", get_trigger), ("reporters", get_reporter)):
        new, old = out.get(key), stored.get(key) or []
        if not isinstance(new, list):
            continue
        restored = []
        for i, item in enumerate(new):
            before = old[i] if i < len(old) else None
            if isinstance(item, dict) and before and item.get("type") == before.get("type"):
                public = getter(before["type"]).public(before)
                item = dict(item)
                for field in ("url",):
                    if field in item and item[field] == public.get(field) != before.get(field):
                        item[field] = before[field]
                if "headers" in item:
                    item["headers"] = restore_headers(item["headers"], before.get("headers"))
            restored.append(item)
        out[key] = restored
    return out


def scenario_view(row: dict, triggers: list[dict], summary: dict | None) -> dict:
    spec = row["spec"]
    status = []
    for t in sorted(triggers, key=lambda t: t["position"]):
        trigger = get_trigger(t["kind"])
        next_fire = t["next_at"] if trigger.timed else None
        status.append({"index": t["position"], "type": t["kind"],
                       "description": trigger.describe(t["spec"]),
                       "next_fire_at": isoformat(next_fire) if row["enabled"] else None,
                       "next_check_at": isoformat(t["next_at"]) if trigger.polled else None,
                       "last_fired_at": isoformat(t["last_fired_at"]),
                       "last_checked_at": isoformat(t["last_checked_at"]),
                       "error": t["last_error"], "error_since": isoformat(t["error_since"])})
    nexts = [s["next_fire_at"] for s in status if s["next_fire_at"]]
    summary = summary or {}
    last = summary.get("last")
    active = summary.get("active")
    return {
        "id": row["id"], "name": row["name"], "description": spec.get("description", ""),
        "enabled": row["enabled"], "version": row["version"],
        "triggers": [_public_trigger(t) for t in spec["triggers"]], "run": spec["run"],
        "reporters": [_public_reporter(r) for r in spec["reporters"]],
        "policies": spec["policies"], "steps": spec.get("steps") or [],
        "created_at": isoformat(row["created_at"]), "updated_at": isoformat(row["updated_at"]),
        "created_by": row["created_by"], "updated_by": row["updated_by"],
        "next_fire_at": min(nexts) if nexts else None,
        "trigger_status": status,
        "last": None if last is None else {
            "fire_id": last["id"], "outcome": last["outcome"], "run_id": last["run_id"],
            "due_at": isoformat(last["due_at"]), "finished_at": isoformat(last["finished_at"]),
            "reason": last["reason"]},
        "last_outcome": last["outcome"] if last else None,
        "active_run_id": active["run_id"] if active else None,
        "waiting": summary.get("waiting", 0),
    }


def fire_view(row: dict, spec: dict | None = None) -> dict:
    due, started = row["due_at"], row.get("started_at")
    run_start, run_end = row.get("run_started_at"), row.get("run_finished_at")
    view = {
        "id": row["id"], "scenario_id": row["scenario_id"], "scenario": row.get("scenario_name"),
        "kind": row["kind"], "trigger_index": row.get("trigger_position"),
        "due_at": isoformat(due), "status": row["status"], "outcome": row.get("outcome"),
        "reason": row.get("reason"), "attempt": row.get("attempt", 1),
        "run_id": row.get("run_id"), "run_status": row.get("run_status"),
        "launched_at": isoformat(started),
        "latency": round((started - due).total_seconds(), 3) if started and due else None,
        "run_started_at": isoformat(run_start), "run_finished_at": isoformat(run_end),
        "duration": round((run_end - run_start).total_seconds(), 3)
        if run_start and run_end else None,
        "finished_at": isoformat(row.get("finished_at")),
        "created_by": row.get("created_by"), "claimed_by": row.get("claimed_by"),
        "details": row.get("details") or {},
    }
    if spec is not None:
        view["trigger"] = trigger_text(row, spec)
    return view


def delivery_view(row: dict) -> dict:
    return {"id": row["id"], "fire_id": row["fire_id"], "reporter_index": row["position"],
            "type": row["kind"], "status": row["status"], "attempts": row["attempts"],
            "last_error": row["last_error"], "next_attempt_at": isoformat(row["next_attempt_at"]),
            "sent_at": isoformat(row["sent_at"]), "summary": row["report"].get("summary")}


def query_time(value, field: str):
    """A `since`/`until` query value: None when absent, else an aware datetime."""
    if value is None or value == "":
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise InvalidInput(f"{field} must be an ISO 8601 time with a time zone, e.g. "
                           "2025-01-01T00:00:00Z", field=field)
    return parsed


def query_limit(value, top: int = 500) -> int:
    """A `limit` query value: a whole number from 1 to `top`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise InvalidInput(f"limit must be a whole number from 1 to {top}", field="limit")
    return value
