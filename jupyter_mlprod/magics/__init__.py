"""Door 2: the `%mlprod` line magic (`%load_ext jupyter_mlprod`).

    %mlprod status                      project, steps with their latest status, problems
    %mlprod run [--steps a,b | --from s] [-p name=value]... [--force]
                                        a live widget (progress, Cancel) in a notebook frontend,
                                        a table updated in place elsewhere (see widgets.py)
    %mlprod params NOTEBOOK|STEP        a typed form of the notebook's parameters, with Run
    %mlprod runs [--limit N]            recent runs
    %mlprod show RUN                    one run and its step runs
    %mlprod dag                         the pipeline as SVG, coloured by latest status
    %mlprod scenario add NAME --cron "0 6 * * *" [--tz Z] [--steps a,b] [-p n=v] [--webhook-env V]
                                        create a scenario (flags of `mlprod scenario add`)
    %mlprod scenario list               scenarios: triggers in words, next fire, last outcome
                                        (also `%mlprod scenarios`)
    %mlprod serve NOTEBOOK|ENDPOINT     serve in the background; %mlprod endpoint(s) ...
    %%mlprod score [ENDPOINT|NOTEBOOK]  the cell's JSON request through the scoring cell

Options are parsed by the CLI's own builders (`jupyter_mlprod.cli.args`). The project is
`--project DIR`, else $MLPROD_PROJECT, else the nearest folder holding mlprod.toml from the
kernel's working folder up; without one it refuses, as `mlprod` does. User errors print one
red line, never a traceback.
`--text` (or MLPROD_WIDGETS=0) shows text where widgets could be shown.
`%mlprod run` is refused inside a notebook that is itself executing as a step (the executor sets
MLPROD_STEP_RUN=<run id>:<step> in the kernel's environment), since it would recurse.
"""
from __future__ import annotations

import argparse
import atexit
import functools
import os
import shlex

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import SVG, display

from ..cli import args as shared
from ..cli.follow import follow_run
from ..cli.output import output_paths
from ..errors import InvalidInput, MlprodError
from . import output as show
from .widgets import add_text_option, use_widgets

STEP_RUN_ENV = "MLPROD_STEP_RUN"
TRIGGER = "magic"


def build_parser() -> shared.Parser:
    sub_parser = functools.partial(shared.Parser, exits=False)
    common = argparse.ArgumentParser(add_help=False)
    shared.add_project_options(common, suppress=True)
    add_text_option(common, suppress=True)
    parser = shared.Parser(prog="%mlprod", exits=False,
                           description="Pipelines of the jupyter_mlprod project from a notebook.")
    shared.add_project_options(parser)
    add_text_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=sub_parser)
    sub.required = True
    sub.add_parser("status", parents=[common],
                   help="the project, its steps with their latest status, and problems")
    run = sub.add_parser("run", parents=[common], help="run the pipeline (or part of it) here, "
                         "showing progress: a live widget with Cancel in a notebook frontend, "
                         "else a table (interrupting the kernel cancels the run)")
    shared.add_selection_options(run)
    runs = sub.add_parser("runs", parents=[common], help="recent runs, newest first")
    shared.add_limit_option(runs, default=10)
    one = sub.add_parser("show", parents=[common], help="a run and its step runs")
    one.add_argument("run", metavar="RUN")
    sub.add_parser("dag", parents=[common], help="the pipeline as SVG, coloured by latest status")
    for module in _command_modules():
        module.add_parsers(sub, common)
    return parser


# A capability's magics live in commands_<capability>.py with `add_parsers(sub, common)` and
# `COMMANDS = {"name": function(magics, ns)}`; add the module's name here.
_COMMAND_MODULES: tuple[str, ...] = ("commands_bundles", "commands_scenarios",
                                     "commands_endpoints", "commands_params", "commands_metrics",
                                     "commands_scenario_runs", "commands_drift")


def _command_modules():
    import importlib

    return [importlib.import_module(f"{__package__}.{name}") for name in _COMMAND_MODULES]


def _dispatch(magics, ns):
    for module in _command_modules():
        if ns.command in module.COMMANDS:
            return module.COMMANDS[ns.command](magics, ns)
    return getattr(magics, f"_cmd_{ns.command}")(ns)


@magics_class
class MlprodMagics(Magics):
    def __init__(self, shell=None):
        super().__init__(shell)
        self._projects: dict[tuple, tuple[float | None, object]] = {}
        atexit.register(self.close)

    @line_magic
    def mlprod(self, line: str = ""):
        """Run and inspect the project's pipeline: `%mlprod --help` lists the commands."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            display(show.error(f"cannot parse the options: {exc}"))
            return None
        parser = build_parser()
        if not words:
            parser.print_help()
            return None
        try:
            ns = parser.parse_args(words)
            return _dispatch(self, ns)
        except shared.ParserExit as exc:
            if exc.status and exc.message:
                display(show.error(exc.message.splitlines()[-1].split("error: ", 1)[-1]))
            return None
        except MlprodError as exc:
            display(show.error(exc.message))
            return None

    @cell_magic("mlprod")
    def mlprod_cell(self, line: str = "", cell: str = ""):
        """`%%mlprod COMMAND ...` with the cell's body as input (e.g. `%%mlprod score`): the
        commands are the modules' `CELL_COMMANDS = {"name": function(magics, words, cell)}`."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            display(show.error(f"cannot parse the options: {exc}"))
            return None
        commands = {name: fn for module in _command_modules()
                    for name, fn in getattr(module, "CELL_COMMANDS", {}).items()}
        if not words or words[0] not in commands:
            display(show.error(f"%%mlprod takes one of: {', '.join(sorted(commands))}"))
            return None
        try:
            return commands[words[0]](self, words[1:], cell)
        except shared.ParserExit as exc:
            if exc.status and exc.message:
                display(show.error(exc.message.splitlines()[-1].split("error: ", 1)[-1]))
            return None
        except MlprodError as exc:
            display(show.error(exc.message))
            return None

    # -- commands ---------------------------------------------------------------------------
    def _cmd_status(self, ns):
        project = self._project(ns)
        return show.status_view(project, project.pipeline_view())

    def _cmd_runs(self, ns):
        return show.runs_view(self._project(ns).list_runs(limit=ns.limit))

    def _cmd_show(self, ns):
        project = self._project(ns)
        run = project.get_run(ns.run)
        return show.run_view(run, output_paths(project, run))

    def _cmd_dag(self, ns):
        from ..pipelines.render import render_svg

        project = self._project(ns)
        return SVG(data=render_svg(project.pipeline_view(), title=project.settings.name))

    def _cmd_run(self, ns):
        inside = os.environ.get(STEP_RUN_ENV)
        if inside:
            run_id, _, step = inside.partition(":")
            raise InvalidInput(f"%mlprod run is refused here: this notebook is itself running as "
                               f"step {step or '?'} of run {run_id}, and a run inside a run would "
                               "recurse", field="run", code="recursive_run")
        request = shared.run_request(ns)
        project = self._project(ns)
        if use_widgets(ns):
            from .widgets_run import start_run_widget

            return start_run_widget(project, request, TRIGGER)
        live = _LiveTable()
        run, interrupted = follow_run(
            project,
            lambda on_update: project.start_run(**request, trigger=TRIGGER, wait=False,
                                                on_update=on_update),
            live.update,
            lambda r: live.note(f"cancelling run {r['id']}: stopping its kernels…"))
        live.finish(show.note(("interrupted: " if interrupted else "") + f"run {run['id']} "
                              f"{run['status']}"))
        return show.run_view(run, output_paths(project, run))

    # -- projects ---------------------------------------------------------------------------
    def _project(self, ns):
        from ..project import Project

        root = shared.project_root(ns)
        key = (str(root), tuple(sorted((k, v) for k, v in shared.overrides(ns).items() if v)))
        config = root / shared.CONFIG_FILE
        stamp = config.stat().st_mtime_ns if config.exists() else None
        cached = self._projects.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        if cached:
            cached[1].close()  # mlprod.toml changed: settings must be read again
        project = Project(root, **shared.overrides(ns))
        self._projects[key] = (stamp, project)
        return project

    def close(self) -> None:
        for _, project in self._projects.values():
            try:
                project.close()
            except Exception:  # noqa: BLE001 - closing at exit: nothing left to tell
                pass
        self._projects.clear()


class _LiveTable:
    """One display handle, updated in place while the run goes."""

    def __init__(self):
        self.handle = None
        self.last = None

    def update(self, run: dict) -> None:
        self._show(show.progress_view(run))

    def note(self, text: str) -> None:
        self._show(show.note(text))

    def finish(self, obj) -> None:
        self._show(obj)

    def _show(self, obj) -> None:
        if self.handle is None:
            self.handle = display(obj, display_id=True)
        elif obj.html != self.last:
            self.handle.update(obj)
        self.last = obj.html


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(MlprodMagics)


def unload_ipython_extension(ipython) -> None:
    magics = ipython.magics_manager.registry.get("MlprodMagics")
    if magics is not None:
        magics.close()
