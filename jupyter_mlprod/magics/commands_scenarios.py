"""`%mlprod schedule NAME --cron "0 6 * * *" [--tz ZONE] [--steps a,b] [-p n=v] [...]` creates a
scenario from the notebook (the flags of `mlprod scenario add`, see cli/scenario_args.py);
`%mlprod scenarios` lists them. Both call `project.scenarios`; the service validates."""
from __future__ import annotations

from html import escape

from ..cli import scenario_args
from ..cli.commands_scenarios import with_field
from ..cli.output import text_table
from ..cli.scenario_output import SCENARIO_HEADERS, scenario_lines, scenario_rows
from ..errors import InvalidInput
from . import output as show


def add_parsers(sub, common) -> None:
    p = sub.add_parser("schedule", parents=[common], help="create a scenario: triggers (--cron, "
                       "--every, --on-change, ...), what to run, reporters")
    p.add_argument("name", metavar="NAME", help="the scenario's name")
    scenario_args.add_scenario_options(p)
    sub.add_parser("scenarios", parents=[common],
                   help="the scenarios: triggers in words, next fire, last outcome, enabled")


def cmd_schedule(magics, ns):
    spec = scenario_args.scenario_spec(ns, ns.name)
    try:
        view = magics._project(ns).scenarios.create(spec, text_parameters=True)
    except InvalidInput as exc:
        raise with_field(exc) from None
    lines = scenario_lines(view)
    return show.Rich(f"<div><b>created scenario {escape(view['name'])}</b> (id {view['id']})"
                     f"</div><pre style='margin:2px 0'>{escape(chr(10).join(lines[1:]))}</pre>",
                     f"created scenario {view['name']!r} (id {view['id']})\n" + "\n".join(lines),
                     view)


def cmd_scenarios(magics, ns):
    scenarios = magics._project(ns).scenarios.list()
    if not scenarios:
        return show.Rich("<div>no scenarios yet: create one with <code>%mlprod schedule NAME "
                         "--cron \"0 6 * * *\"</code></div>", "no scenarios yet",
                         {"scenarios": []})
    rows = scenario_rows(scenarios)
    return show.Rich(show.html_table(SCENARIO_HEADERS, rows, status_column=5),
                     text_table(SCENARIO_HEADERS, rows), {"scenarios": scenarios})


COMMANDS = {"schedule": cmd_schedule, "scenarios": cmd_scenarios}
