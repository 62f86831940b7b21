"""`%mlprod scenario add NAME --cron "0 6 * * *" [--tz ZONE] [--steps a,b] [-p n=v] [...]` creates
a scenario from the notebook (the flags of `mlprod scenario add`, see cli/scenario_args.py);
`%mlprod scenario list` (or `%mlprod scenarios`) lists them: the CLI's nouns. `%mlprod schedule
NAME ...`, the old spelling of `scenario add`, still works and says so. All call
`project.scenarios`; the service validates."""
from __future__ import annotations

import functools
import sys
from html import escape

from ..cli import args as shared
from ..cli import scenario_args
from ..cli.commands_scenarios import with_field
from ..cli.output import text_table
from ..cli.scenario_output import SCENARIO_HEADERS, scenario_lines, scenario_rows
from ..errors import InvalidInput
from . import output as show

DEPRECATED_SCHEDULE = ("%mlprod schedule is deprecated: use %mlprod scenario add NAME "
                       "(same flags, as `mlprod scenario add`)")


def add_parsers(sub, common) -> None:
    scenario = sub.add_parser("scenario", parents=[common],
                              help="scenarios: add, list (as `mlprod scenario ...`)")
    actions = scenario.add_subparsers(dest="action", metavar="ACTION",
                                      parser_class=functools.partial(shared.Parser, exits=False))
    actions.required = True
    _add_options(actions.add_parser("add", parents=[common], help="create a scenario: triggers "
                                    "(--cron, --every, --on-change, ...), what to run, reporters"))
    actions.add_parser("list", parents=[common],
                       help="the scenarios: triggers in words, next fire, last outcome, enabled")
    from .commands_scenario_runs import add_runs_action

    add_runs_action(actions, common)
    sub.add_parser("scenarios", parents=[common], help="the scenarios (= %%mlprod scenario list)")
    _add_options(sub.add_parser("schedule", parents=[common]))  # no help: hidden, deprecated


def _add_options(p) -> None:
    p.add_argument("name_given", nargs="?", metavar="NAME", help="the scenario's name")
    p.add_argument("--name", help="the scenario's name (as `mlprod scenario add --name`)")
    scenario_args.add_scenario_options(p)


def cmd_scenario(magics, ns):
    if ns.action == "runs":
        from .commands_scenario_runs import cmd_runs

        return cmd_runs(magics, ns)
    return cmd_add(magics, ns) if ns.action == "add" else cmd_scenarios(magics, ns)


def cmd_schedule(magics, ns):
    print(DEPRECATED_SCHEDULE, file=sys.stderr)
    return cmd_add(magics, ns)


def cmd_add(magics, ns):
    name = ns.name or ns.name_given
    if not name:
        raise InvalidInput("give the scenario a NAME: %mlprod scenario add NAME --cron ...",
                           field="name")
    spec = scenario_args.scenario_spec(ns, name)
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
        return show.Rich("<div>no scenarios yet: create one with <code>%mlprod scenario add NAME "
                         "--cron \"0 6 * * *\"</code></div>", "no scenarios yet",
                         {"scenarios": []})
    rows = scenario_rows(scenarios)
    return show.Rich(show.html_table(SCENARIO_HEADERS, rows, status_column=5),
                     text_table(SCENARIO_HEADERS, rows), {"scenarios": scenarios})


COMMANDS = {"scenario": cmd_scenario, "scenarios": cmd_scenarios, "schedule": cmd_schedule}
