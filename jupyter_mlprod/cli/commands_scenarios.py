"""`mlprod scenario add|list|show|enable|disable|trigger|remove` and `mlprod scheduler`.

Every action is `project.scenarios` (ScenarioService): the flags only compose a spec
(scenario_args.py) and the service validates it, naming the field at fault; that field leads
the one error line (`mlprod: error: triggers[0].cron: ...`)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InvalidInput
from . import scenario_args
from .output import text_table
from .scenario_output import (FIRE_HEADERS, SCENARIO_HEADERS, fire_rows, next_fire_text,
                              scenario_lines, scenario_rows, validation_lines)
from ..words import counted

SHOWN_FIRES = 10


def register(command, sub, common) -> None:
    scenario = sub.add_parser("scenario", help="scenarios (triggers + steps + reporters): "
                              "add, list, show, enable, disable, trigger, remove, runs, run-show",
                              description="Scenarios: triggers + an ordered list of steps (or "
                              "what to run) + reporters.",
                              parents=[common])
    actions = scenario.add_subparsers(dest="action", metavar="ACTION",
                                      parser_class=type(scenario))
    actions.required = True

    p = command("add", cmd_add, "create a scenario from a JSON (or YAML) spec file or from "
                "flags; it is validated as a whole and nothing is saved if anything is wrong",
                parent=actions)
    p.add_argument("--file", metavar="SPEC", help="the scenario spec, as JSON (.json) or YAML "
                   "(.yaml); `-` reads standard input. --name may rename it")
    p.add_argument("--name", help="the scenario's name (letters, digits, _ . -)")
    p.add_argument("--check", action="store_true", help="only validate: show every problem, the "
                   "triggers in words and their next fire times; save nothing")
    scenario_args.add_scenario_options(p)

    command("list", cmd_list, "list scenarios: triggers in words, next fire, last outcome",
            parent=actions)

    for name, func, text in (
            ("show", cmd_show, "show a scenario, its triggers' state and its recent fires"),
            ("enable", cmd_enable, "enable a scenario (its triggers count again from now)"),
            ("disable", cmd_disable, "disable a scenario (its triggers stop firing)"),
            ("remove", cmd_remove, "remove a scenario and its fire history (its runs stay)")):
        p = command(name, func, text, parent=actions)
        p.add_argument("scenario", metavar="SCENARIO", help="name or id")

    p = command("trigger", cmd_trigger, "run a scenario now, in the foreground like `mlprod run` "
                "(exit 0 if it succeeded, 1 if not), reported like any fire", parent=actions)
    p.add_argument("scenario", metavar="SCENARIO", help="name or id")
    p.add_argument("--defer", action="store_true", help="only queue the run for the running "
                   "scheduler (`mlprod scheduler` or the Jupyter server's) and return")

    from .commands_scenario_runs import register_actions, register_approve

    register_actions(command, actions)
    register_approve(command)

    p = command("scheduler", cmd_scheduler, "run the scenario scheduler in the foreground (the "
                "headless production daemon; no JupyterLab needed). SIGTERM or Ctrl-C stops it "
                "gracefully: running runs finish or are cancelled, and are recorded")
    p.add_argument("--name", help="this scheduler's name in the store (default: host:pid)")
    p.add_argument("--poll-interval", metavar="SECONDS",
                   help="longest sleep between passes (default 1)")
    p.add_argument("--max-concurrent-runs", metavar="N",
                   help="scenario runs in flight at once, store-wide (default 4)")
    p.add_argument("--stop-timeout", metavar="SECONDS", help="on SIGTERM, how long "
                   "running runs may take before they are cancelled (default 30)")
    p.add_argument("--dry-run", action="store_true",
                   help="record a run per fire without executing any step")
    p.add_argument("--log-level", default="INFO", metavar="LEVEL",
                   help="DEBUG, INFO (default), WARNING")


# -- scenario ---------------------------------------------------------------------------------
def cmd_add(ctx) -> int:
    ns = ctx.ns
    if ns.file is not None:
        given = scenario_args.flags_given(ns)
        if given:
            raise InvalidInput(f"--file cannot be combined with {given[0]}: put it in the file",
                               field="--file")
        spec, text_parameters = _read_spec(ns.file), False
        if ns.name is not None:
            if not isinstance(spec, dict):
                raise InvalidInput(f"--file {ns.file} must hold a JSON object (the scenario)",
                                   field="--file")
            spec = dict(spec, name=ns.name)
    else:
        if ns.name is None:
            raise InvalidInput("give the scenario a --name (or its spec with --file)",
                               field="--name")
        spec, text_parameters = scenario_args.scenario_spec(ns, ns.name), True
    service = ctx.project.scenarios
    if ns.check:
        result = service.validate(spec, deep=True, text_parameters=text_parameters)
        if ctx.json:
            ctx.emit(result, "")
        else:
            ctx.out("\n".join(["valid" if result["valid"] else
                               f"invalid ({counted(len(result['errors']), 'problem')})"]
                              + validation_lines(result)))
        return 0 if result["valid"] else 2
    try:
        view = service.create(spec, text_parameters=text_parameters)
    except InvalidInput as exc:
        raise with_field(exc) from None
    ctx.emit(view, f"created scenario {view['name']!r} (id {view['id']})\n\n"
                   + "\n".join(scenario_lines(view)))
    return 0


def _read_spec(path: str):
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--file {path}: cannot read it ({exc.strerror})",
                           field="--file") from None
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except ValueError as exc:   # json.JSONDecodeError and yaml.YAMLError's message
        raise InvalidInput(f"--file {path} is not valid JSON: {exc}", field="--file") from None
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError
        raise InvalidInput(f"--file {path} is not valid YAML: {' '.join(str(exc).split())}",
                           field="--file") from None


def with_field(exc: InvalidInput) -> InvalidInput:
    """The same error, its message led by the spec field it concerns."""
    if not exc.field or exc.message.startswith(exc.field):
        return exc
    return InvalidInput(f"{exc.field}: {exc.message}", field=exc.field, code=exc.code,
                        details=exc.details)


def cmd_list(ctx) -> int:
    scenarios = ctx.project.scenarios.list()
    if ctx.json:
        ctx.emit({"scenarios": scenarios}, "")
    elif not scenarios:
        ctx.out("no scenarios yet: add one with `mlprod scenario add --name NAME --cron "
                "\"0 6 * * *\"`")
    else:
        ctx.out(text_table(SCENARIO_HEADERS, scenario_rows(scenarios)))
    return 0


def cmd_show(ctx) -> int:
    service = ctx.project.scenarios
    view = service.get(ctx.ns.scenario)
    if ctx.json:
        ctx.emit(view, "")
        return 0
    fires = service.fires(view["id"], SHOWN_FIRES)
    lines = scenario_lines(view) + ["", f"recent fires ({len(fires)}):" if fires else
                                    "no fires yet"]
    if fires:
        lines.append(text_table(FIRE_HEADERS, fire_rows(fires)))
    ctx.out("\n".join(lines))
    return 0


def cmd_enable(ctx) -> int:
    view = _set(ctx, ctx.project.scenarios.enable)
    ctx.emit(view, f"enabled scenario {view['name']!r}"
                   + (f"; next fire {next_fire_text(view)}" if view["next_fire_at"] else ""))
    return 0


def cmd_disable(ctx) -> int:
    view = _set(ctx, ctx.project.scenarios.disable)
    ctx.emit(view, f"disabled scenario {view['name']!r}; its triggers stop firing")
    return 0


def _set(ctx, action) -> dict:
    try:
        return action(ctx.ns.scenario)
    except InvalidInput as exc:   # e.g. its spec no longer fits the pipeline
        raise with_field(exc) from None


def cmd_remove(ctx) -> int:
    view = ctx.project.scenarios.remove(ctx.ns.scenario)
    ctx.emit(view, f"removed scenario {view['name']!r} (its runs stay)")
    return 0


def cmd_trigger(ctx) -> int:
    from .commands_runs import _follow

    service = ctx.project.scenarios
    if ctx.ns.defer:
        fire = service.trigger(ctx.ns.scenario, defer=True)
        ctx.emit(fire, f"queued a run of scenario {fire['scenario']!r} (fire {fire['id']}) for "
                       "the running scheduler")
        return 0
    if service.get(ctx.ns.scenario)["steps"]:   # a scenario run of steps: the scheduler's
        from .commands_scenario_runs import run_lines

        view = service.trigger(ctx.ns.scenario)
        ctx.emit(view, f"queued scenario run {view['id']} of {view['scenario']!r} for the "
                       "running scheduler; follow it with `mlprod scenario run-show "
                       f"{view['id']}`\n\n" + "\n".join(run_lines(view)))
        return 0
    # the run executes in this process: follow it to the end, as `mlprod run` does
    return _follow(ctx, lambda on_update: service.trigger(ctx.ns.scenario))


# -- scheduler --------------------------------------------------------------------------------
def cmd_scheduler(ctx) -> int:
    from ..scheduling.__main__ import main as scheduler_main
    from ..scheduling.config import SchedulerConfig

    ns = ctx.ns
    if ns.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise InvalidInput(f"--log-level must be DEBUG, INFO, WARNING or ERROR, not "
                           f"{ns.log_level!r}", field="--log-level")
    ns.poll_interval = _flag_number(ns.poll_interval, "--poll-interval", float)
    ns.max_concurrent_runs = _flag_number(ns.max_concurrent_runs, "--max-concurrent-runs", int)
    ns.stop_timeout = _flag_number(ns.stop_timeout, "--stop-timeout", float)
    project = ctx.project   # a project or store that cannot be opened: one line, exit 2 / 3
    settings = dict(poll_interval=ns.poll_interval, max_concurrent_runs=ns.max_concurrent_runs,
                    stop_timeout=ns.stop_timeout, launcher="dry-run" if ns.dry_run else None)
    config = SchedulerConfig.load(project.root, settings)   # bad settings: one line, exit 2
    scenarios = project.scenarios.list()
    info = {"project": project.settings.name, "root": str(project.root),
            "store": project.settings.store_kind, "executor": project.settings.executor,
            "scenarios": len(scenarios), "enabled": sum(1 for s in scenarios if s["enabled"]),
            "launcher": config.launcher, "poll_interval": config.poll_interval,
            "max_concurrent_runs": config.max_concurrent_runs}
    argv = ["--root", str(project.root), "--log-level", ns.log_level]
    for flag, value in (("--store-url", getattr(ns, "store", None)),
                        ("--executor", getattr(ns, "executor", None)), ("--name", ns.name),
                        ("--poll-interval", ns.poll_interval),
                        ("--max-concurrent-runs", ns.max_concurrent_runs),
                        ("--stop-timeout", ns.stop_timeout)):
        if value is not None:
            argv += [flag, str(value)]
    if ns.dry_run:
        argv.append("--dry-run")
    ctx.close()   # the daemon opens its own Project: one run service per process
    ctx.emit(info, f"mlprod scheduler: project {info['project']} ({info['root']}), store "
                   f"{info['store']}, {info['enabled']} of {info['scenarios']} scenarios enabled"
                   f"{' (dry run)' if ns.dry_run else ''}; Ctrl-C or SIGTERM stops it")
    ctx.stdout.flush()
    return scheduler_main(argv)


def _flag_number(text, flag: str, kind: type):
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise InvalidInput(f"{flag} must be {what}, not {text!r}", field=flag) from None
