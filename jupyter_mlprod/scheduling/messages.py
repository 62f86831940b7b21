"""The report of a finished fire: its facts as JSON (stored with each delivery, no secrets),
one-line summary, plain text, Slack-compatible body and e-mail subject."""
from __future__ import annotations

from .reporters.templates import render

_WORD = {"succeeded": "succeeded", "failed": "FAILED", "cancelled": "was cancelled",
         "error": "could not be evaluated"}


def build_report(*, project: str, scenario: dict, fire: dict, run: dict | None,
                 previous: str | None, link: str | None, trigger_text: str,
                 monitoring: dict | None = None) -> dict:
    outcome = fire["outcome"]
    failed = next((s for s in (run or {}).get("steps", []) if s["status"] == "failed"), None)
    error = None
    if failed and failed.get("error"):
        err = failed["error"]
        where = (f" (cell In [{err['execution_count']}])" if err.get("execution_count") is not None
                 else f" (cell {err['cell_index']})" if err.get("cell_index") is not None else "")
        error = f"{err['ename']}: {err['evalue']}{where}"
    elif failed and failed.get("reason"):
        error = failed["reason"]
    elif run and run.get("error"):
        error = run["error"]
    elif outcome != "succeeded":
        error = fire.get("reason")
    report = {
        "project": project, "scenario": scenario["name"], "scenario_id": scenario["id"],
        "outcome": outcome, "previous_outcome": previous, "fire_id": fire["id"],
        "trigger": fire["kind"], "trigger_description": trigger_text,
        "due_at": fire["due_at"], "attempt": fire.get("attempt", 1),
        "run_id": run["id"] if run else None, "run_url": link,
        "started_at": run["started_at"] if run else None,
        "finished_at": run["finished_at"] if run else None,
        "duration": run["duration"] if run else None,
        "failed_step": failed["step"] if failed else None, "error": error,
        "steps": [{"step": s["step"], "status": s["status"], "duration": s["duration"]}
                  for s in (run or {}).get("steps", [])],
        # key metrics and check outcomes (see monitoring.MetricService.report)
        "metrics": [{"step": m["step"], "name": m["name"], "value": m["value"]}
                    for m in (monitoring or {}).get("metrics", [])],
        "checks": [{"step": c["step"], "metric": c["metric"], "outcome": c["outcome"],
                    "value": c["value"], "message": c["message"]}
                   for c in (monitoring or {}).get("checks", [])],
        "checks_outcome": (monitoring or {}).get("outcome"),
    }
    report["summary"] = summary(report)
    report["text"] = text(report)
    return report


def duration_text(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min {sec} s"


def summary(r: dict) -> str:
    head = f"{r['project']}/{r['scenario']} {_WORD.get(r['outcome'], r['outcome'])}"
    if r["outcome"] == "succeeded":
        head += f" in {duration_text(r['duration'])}"
    elif r.get("failed_step"):
        head += f": step {r['failed_step']}: {r['error']}"
    elif r.get("error"):
        head += f": {r['error']}"
    return head + (f" (run {r['run_id']})" if r.get("run_id") else "")


def text(r: dict) -> str:
    word = _WORD.get(r["outcome"], r["outcome"])
    lines = [f"Scenario {r['scenario']} (project {r['project']}) {word}."]
    if r.get("run_id"):
        lines.append(f"Run: {r['run_id']}" + (f" - {r['run_url']}" if r.get("run_url") else ""))
    prev = f" (previously {r['previous_outcome']})" if r.get("previous_outcome") else ""
    lines.append(f"Outcome: {r['outcome']}{prev}")
    if r.get("duration") is not None:
        lines.append(f"Duration: {duration_text(r['duration'])} (started {r['started_at']})")
    if r.get("failed_step"):
        lines.append(f"Failed step: {r['failed_step']}: {r['error']}")
    elif r.get("error"):
        lines.append(f"Error: {r['error']}")
    lines.append(f"Trigger: {r['trigger_description']}, due {r['due_at']}"
                 + (f", attempt {r['attempt']}" if (r.get("attempt") or 1) > 1 else ""))
    if r.get("steps"):
        lines.append("Steps: " + ", ".join(f"{s['step']} {s['status']}" for s in r["steps"]))
    lines += monitoring_lines(r)
    return "\n".join(lines)


def monitoring_lines(r: dict) -> list[str]:
    lines = []
    if r.get("metrics"):
        lines.append("Metrics: " + ", ".join(f"{m['step']}.{m['name']} = {m['value']:.4g}"
                                             for m in r["metrics"] if m["value"] is not None))
    if r.get("checks"):
        lines.append(f"Checks: {r['checks_outcome']}")
        lines += [f"  {c['outcome']}: {c['step']}: {c['message']}" for c in r["checks"]
                  if c["outcome"] != "OK"]
    return lines


def values(report: dict) -> dict:
    """What `{placeholders}` in templates are replaced with."""
    return dict(report, OUTCOME=str(report["outcome"]).upper(),
                duration=duration_text(report.get("duration")),
                trigger=report.get("trigger_description"),
                failed_step=report.get("failed_step") or "",
                error=report.get("error") or "",
                emoji=":white_check_mark:" if report["outcome"] == "succeeded" else ":x:")


def slack_body(report: dict, template: str | None = None) -> dict:
    """Slack-compatible incoming-webhook JSON (`text` + `blocks`; Mattermost and Rocket.Chat read
    `text`). A `template` replaces the text."""
    v = values(report)
    if template:
        return {"text": render(template, v)}
    link = f"<{report['run_url']}|run {report['run_id']}>" if report.get("run_url") and \
        report.get("run_id") else (f"run {report['run_id']}" if report.get("run_id") else "no run")
    fields = [f"*Outcome*\n{report['outcome']}", f"*Run*\n{link}",
              f"*Duration*\n{v['duration']}", f"*Trigger*\n{report['trigger_description']}"]
    if report.get("failed_step"):
        fields.append(f"*Failed step*\n{report['failed_step']}")
    if report.get("checks_outcome"):
        fields.append(f"*Checks*\n{report['checks_outcome']}")
    headline = f"{v['emoji']} *{_esc(report['summary'])}*"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": headline}},
              {"type": "section",
               "fields": [{"type": "mrkdwn", "text": _esc_field(f)} for f in fields]}]
    if report.get("error"):
        error = f"```{_esc(report['error'])[:2800]}```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": error}})
    extra = monitoring_lines(report)
    if extra:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": _esc("\n".join(extra))[:2900]}})
    return {"text": f"{v['emoji']} {report['summary']}", "blocks": blocks}


def email_subject(report: dict, template: str | None = None) -> str:
    v = values(report)
    if template:
        return render(template, v)
    run = f" (run {report['run_id']})" if report.get("run_id") else ""
    return f"[mlprod] {report['project']}/{report['scenario']}: {v['OUTCOME']}{run}"


def _esc(value: str) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_field(value: str) -> str:
    head, _, rest = value.partition("\n")
    return f"{head}\n{rest if rest.startswith('<') else _esc(rest)}"
