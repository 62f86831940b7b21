"""Rows for scenarios and their fires, shared by the CLI (text) and the magic (HTML + text).
They only format the views `project.scenarios` returned; they decide nothing."""
from __future__ import annotations

from .output import fmt_duration, fmt_params, fmt_time, fmt_time_in, one_line

SCENARIO_HEADERS = ["id", "name", "enabled", "triggers", "next fire", "last outcome"]


def triggers_text(scenario: dict) -> str:
    return "; ".join(s["description"] for s in scenario["trigger_status"])


def last_text(scenario: dict) -> str:
    """`succeeded (run 3)`, `running (run 4)`, or empty when it never fired."""
    if scenario.get("active_run_id"):
        return f"running (run {scenario['active_run_id']})"
    last = scenario.get("last")
    if not last:
        return ""
    outcome = last["outcome"] or "skipped"
    return f"{outcome} (run {last['run_id']})" if last.get("run_id") else outcome


def trigger_zone(triggers: list[dict], index: int) -> str | None:
    """The time zone a trigger's times are read in (a cron's `timezone`), else None."""
    trigger = triggers[index] if 0 <= index < len(triggers) else {}
    return trigger.get("timezone") if isinstance(trigger, dict) else None


def next_fire_text(scenario: dict) -> str:
    """The scenario's next fire in the zone of the trigger that fires then, labelled."""
    at = scenario.get("next_fire_at")
    zone = next((trigger_zone(scenario["triggers"], s["index"])
                 for s in scenario.get("trigger_status", []) if s["next_fire_at"] == at), None)
    return fmt_time_in(at, zone)


def scenario_rows(scenarios: list[dict]) -> list[list[str]]:
    return [[str(s["id"]), s["name"], "yes" if s["enabled"] else "no", triggers_text(s),
             next_fire_text(s), last_text(s)] for s in scenarios]


def run_text(scenario: dict) -> str:
    run = scenario["run"]
    what = (f"steps {', '.join(run['steps'])}" if run.get("steps") else
            f"from {run['from']}" if run.get("from") else "all steps")
    params = fmt_params(run.get("parameters"))
    return what + (f" with {params}" if params else "") + ("  (forced)" if run.get("force") else "")


def reporter_text(reporter: dict) -> str:
    when = reporter.get("when", "always")
    if reporter["type"] == "webhook":
        where = f"${reporter['url_env']}" if reporter.get("url_env") else reporter.get("url", "")
        return f"webhook {where} ({when})"
    if reporter["type"] == "email":
        return f"e-mail to {', '.join(reporter['to'])} via {reporter['host']} ({when})"
    return f"{reporter['type']} ({when})"


def scenario_lines(scenario: dict) -> list[str]:
    policies = scenario["policies"]
    lines = [f"scenario {scenario['id']}  {scenario['name']}"
             + ("" if scenario["enabled"] else "  (disabled)")]
    if scenario.get("description"):
        lines.append(f"description {scenario['description']}")
    steps = scenario.get("steps") or []
    lines += [f"runs        {'its steps (below)' if steps else run_text(scenario)}",
              f"next fire   {next_fire_text(scenario) or '-'}",
              f"last        {last_text(scenario) or 'never fired'}",
              f"policies    misfire {policies['misfire']}, overlap {policies['overlap']}, "
              f"retries {policies['retries']}",
              "triggers"]
    for status in scenario["trigger_status"]:
        nxt = status["next_fire_at"] or status["next_check_at"]
        line = f"  [{status['index']}] {status['description']}"
        if nxt:
            zone = trigger_zone(scenario["triggers"], status["index"])
            line += f"  (next {'fire' if status['next_fire_at'] else 'check'} {fmt_time_in(nxt, zone)})"
        if status.get("error"):
            line += f"  error: {one_line(status['error'], 100)}"
        lines.append(line)
    if steps:
        lines.append("steps")
        lines += [f"  [{i}] {s['name']} ({s['kind']})"
                  + ("" if s.get("if", "success") == "success" else f"  if {s['if']}")
                  for i, s in enumerate(steps)]
    lines.append("reporters" + ("" if scenario["reporters"] else "   none"))
    lines += [f"  [{i}] {reporter_text(r)}" for i, r in enumerate(scenario["reporters"])]
    return lines


FIRE_HEADERS = ["fire", "due", "trigger", "status", "outcome", "run", "duration", "reason"]


def fire_rows(fires: list[dict]) -> list[list[str]]:
    return [[str(f["id"]), fmt_time(f["due_at"]), f.get("trigger") or f["kind"], f["status"],
             f["outcome"] or "", str(f["run_id"] or ""), fmt_duration(f["duration"]),
             one_line(f["reason"] or "", 60)] for f in fires]


def validation_lines(result: dict) -> list[str]:
    lines = [f"{e['field']}: {e['message']}" for e in result["errors"]]
    lines += [f"warning: {w['field']}: {w['message']}" for w in result["warnings"]]
    for trigger in result["triggers"]:
        if trigger["description"]:
            lines.append(f"triggers[{trigger['index']}]: {trigger['description']}")
            zone = trigger_zone((result.get("spec") or {}).get("triggers") or [], trigger["index"])
            lines += [f"  next {fmt_time_in(at, zone)}" for at in trigger["next"]]
    return lines
