"""`%mlprod approve ID [--reject] [-m WHY]` and `%mlprod scenario runs NAME`: scenario runs and
their approvals, as `mlprod approve` / `mlprod scenario runs`, through `project.scenario_runs`."""
from __future__ import annotations

from html import escape

from ..cli.commands_scenario_runs import RUN_HEADERS, run_id, run_lines, steps_text
from ..cli.output import fmt_time, text_table
from . import output as show


def add_parsers(sub, common) -> None:
    p = sub.add_parser("approve", parents=[common], help="approve (or --reject) a scenario run "
                       "waiting for an approval (as `mlprod approve`)")
    p.add_argument("run", metavar="ID", help="the scenario run's id")
    p.add_argument("--reject", action="store_true", help="reject it: nothing after the "
                   "approve step runs")
    p.add_argument("-m", "--message", help="why")


def add_runs_action(actions, common) -> None:
    p = actions.add_parser("runs", parents=[common], help="a scenario's runs with each step's "
                           "outcome (as `mlprod scenario runs`)")
    p.add_argument("scenario", metavar="NAME", help="name or id")
    p.add_argument("--limit", type=int, default=20, help="how many (default 20)")


def cmd_approve(magics, ns):
    decision = "reject" if ns.reject else "approve"
    view = magics._project(ns).scenario_runs.decide(run_id(ns.run), decision, ns.message)
    text = "\n".join(run_lines(view))
    word = "rejected" if ns.reject else "approved"
    return show.Rich(f"<div><b>{word} scenario run {view['id']}</b></div><pre style='margin:2px "
                     f"0'>{escape(text)}</pre>", f"{word} scenario run {view['id']}\n{text}",
                     view)


def cmd_runs(magics, ns):
    runs = magics._project(ns).scenario_runs.list(ns.scenario, ns.limit)
    if not runs:
        return show.Rich("<div>no runs yet</div>", "no runs yet", {"runs": []})
    rows = [[str(r["id"]), r["status"], r["trigger"] or "", fmt_time(r["started_at"]),
             fmt_time(r["finished_at"]), steps_text(r)] for r in runs]
    return show.Rich(show.html_table(RUN_HEADERS, rows, status_column=1),
                     text_table(RUN_HEADERS, rows), {"runs": runs})


COMMANDS = {"approve": cmd_approve}
