"""`mlprod scenario runs NAME`, `mlprod scenario run-show ID` and `mlprod approve ID [--reject
-m WHY]`: scenario runs (fires of a scenario with steps) and their approvals, through
`project.scenario_runs`."""
from __future__ import annotations

from ..errors import InvalidInput
from .output import fmt_time, one_line, text_table

RUN_HEADERS = ["run", "status", "trigger", "started", "finished", "steps"]
STEP_HEADERS = ["#", "step", "kind", "status", "values", "error"]


def register_actions(command, actions) -> None:
    p = command("runs", cmd_runs, "a scenario's runs, newest first, with each step's outcome",
                parent=actions)
    p.add_argument("scenario", metavar="SCENARIO", help="name or id")
    p.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    p = command("run-show", cmd_run_show, "one scenario run: its steps' outcomes, values, "
                "comparison with the champion and approval", parent=actions)
    p.add_argument("run", metavar="ID", help="the scenario run's id (its fire id)")


def register_approve(command) -> None:
    p = command("approve", cmd_approve, "approve (or --reject) the scenario run waiting for an "
                "approval; the decision is audited and counts once")
    p.add_argument("run", metavar="ID", help="the scenario run's id")
    p.add_argument("--reject", action="store_true", help="reject: the scenario run ends as "
                   "rejected, nothing after the approve step runs")
    p.add_argument("-m", "--message", help="why (kept with the decision)")


def run_id(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 2 ** 31:
        raise InvalidInput(f"a scenario run id is a positive whole number, not {text!r}",
                           field="ID")
    return int(text)


def steps_text(view: dict) -> str:
    return " ".join(f"{s['name']}:{s['status']}" for s in view["steps"]) or "-"


def value_text(step: dict) -> str:
    values = step["values"] or {}
    if step["comparison"]:
        return "; ".join(f"{c['metric']} {c['candidate']} vs {c['champion']} "
                         f"{'pass' if c['passed'] else 'FAIL'}" for c in step["comparison"])
    shown = {k: v for k, v in values.items() if k in (
        "run_id", "bundle_id", "deployment_id", "version", "requests", "errors", "decided_by",
        "note", "message")}
    if "bundle_id" in shown:
        shown["bundle_id"] = shown["bundle_id"][:12]
    return one_line(", ".join(f"{k}={v}" for k, v in shown.items()), 70)


def run_lines(view: dict) -> list[str]:
    lines = [f"scenario run {view['id']} of {view['scenario']}: {view['status']}",
             f"trigger: {view['trigger']}; started {fmt_time(view['started_at'])}, finished "
             f"{fmt_time(view['finished_at'])}"]
    if view["error"]:
        lines.append(f"error: {view['error']}")
    rows = [[str(s["index"]), s["name"], s["kind"], s["status"], value_text(s),
             one_line(s["error"] or "", 60)] for s in view["steps"]]
    lines += ["", text_table(STEP_HEADERS, rows)] if rows else []
    waiting = next((s for s in view["steps"] if s["status"] == "waiting"), None)
    if waiting:
        who = ", ".join(waiting["approval"]["approvers"]) or "anyone"
        lines += ["", f"waiting for an approval ({who}) until "
                      f"{fmt_time(waiting['approval']['deadline'])}: mlprod approve {view['id']}"
                      f" [--reject -m WHY]"]
    return lines


def cmd_runs(ctx) -> int:
    runs = ctx.project.scenario_runs.list(ctx.ns.scenario, ctx.ns.limit)
    if ctx.json:
        ctx.emit({"runs": runs}, "")
    elif not runs:
        ctx.out("no runs yet")
    else:
        ctx.out(text_table(RUN_HEADERS, [[str(r["id"]), r["status"], r["trigger"] or "",
                                          fmt_time(r["started_at"]), fmt_time(r["finished_at"]),
                                          steps_text(r)] for r in runs]))
    return 0


def cmd_run_show(ctx) -> int:
    view = ctx.project.scenario_runs.get(run_id(ctx.ns.run))
    ctx.emit(view, "\n".join(run_lines(view)))
    return 0


def cmd_approve(ctx) -> int:
    decision = "reject" if ctx.ns.reject else "approve"
    view = ctx.project.scenario_runs.decide(run_id(ctx.ns.run), decision, ctx.ns.message)
    word = "rejected" if ctx.ns.reject else "approved"
    ctx.emit(view, f"{word} scenario run {view['id']} of {view['scenario']}\n\n"
                   + "\n".join(run_lines(view)))
    return 0
