"""`mlprod run|resume|cancel|runs|show`."""
from __future__ import annotations

from . import args as shared
from .errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED
from .follow import follow_run
from .output import (RUN_HEADERS, STEP_RUN_HEADERS, fmt_duration, fmt_params, fmt_time,
                     failure_lines, output_paths, run_rows, run_summary, step_run_rows, text_table)
from .progress import TerminalProgress

TRIGGER = "cli"


def register(command, sub=None, common=None) -> None:
    p = command("run", cmd_run, "run the pipeline (or part of it) in the foreground; exit 0 if "
                "it succeeded, 1 if not; Ctrl-C cancels it")
    shared.add_selection_options(p)

    p = command("resume", cmd_resume, "run the failed and unrun steps of a finished run again, "
                "with its parameters, in the foreground")
    p.add_argument("run", metavar="RUN", help="run id")

    p = command("cancel", cmd_cancel, "ask a run to stop (its process kills the running kernels)")
    p.add_argument("run", metavar="RUN", help="run id")

    p = command("runs", cmd_runs, "list runs, newest first")
    shared.add_limit_option(p)

    p = command("show", cmd_show, "show a run and its step runs")
    p.add_argument("run", metavar="RUN", help="run id")


def cmd_run(ctx) -> int:
    request = shared.run_request(ctx.ns)
    project = ctx.project
    return _follow(ctx, lambda on_update: project.start_run(
        **request, trigger=TRIGGER, wait=False, on_update=on_update))


def cmd_resume(ctx) -> int:
    project = ctx.project
    return _follow(ctx, lambda on_update: project.resume_run(
        ctx.ns.run, trigger=TRIGGER, wait=False, on_update=on_update))


def _follow(ctx, start) -> int:
    # With --json, stdout carries only the final JSON; progress goes to stderr.
    progress = TerminalProgress(ctx.stderr if ctx.json else ctx.stdout)

    def interrupted(run: dict) -> None:
        progress.note(f"cancelling run {run['id']}: stopping its kernels (Ctrl-C again to "
                      "leave without waiting)")

    try:
        run, was_interrupted = follow_run(ctx.project, start, progress.update, interrupted)
    finally:
        progress.close()
    outputs = output_paths(ctx.project, run)
    if ctx.json:
        ctx.emit(run, "")
    else:
        ctx.out(run_summary(run))
        if run["status"] != "succeeded":
            for line in failure_lines(run, outputs):
                ctx.err(line)
    if was_interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if run["status"] == "succeeded" else EXIT_RUN_FAILED


def cmd_cancel(ctx) -> int:
    run = ctx.project.cancel_run(ctx.ns.run)
    ctx.emit(run, f"asked run {run['id']} to stop (it was {run['status']}); "
                  f"`mlprod show {run['id']}` tells when it has")
    return 0


def cmd_runs(ctx) -> int:
    data = ctx.project.list_runs(limit=ctx.ns.limit)
    if ctx.json:
        ctx.emit(data, "")
        return 0
    if not data["runs"]:
        ctx.out("no runs yet: start one with `mlprod run`")
        return 0
    text = text_table(RUN_HEADERS, run_rows(data["runs"]))
    if data["total"] > len(data["runs"]):
        text += f"\n({len(data['runs'])} of {data['total']} runs; --limit N shows more)"
    ctx.out(text)
    return 0


def cmd_show(ctx) -> int:
    run = ctx.project.get_run(ctx.ns.run)
    if ctx.json:
        ctx.emit(dict(run, checks=ctx.project.metrics.run_checks(run["id"])["checks"]), "")
        return 0
    selection = run["selection"] or {}
    what = (f"steps {', '.join(selection['steps'])}" if selection.get("steps") else
            f"from {selection['from']}" if selection.get("from") else "all steps")
    lines = [f"run {run['id']}  {run['status']}",
             f"trigger     {run['trigger']} by {run['created_by'] or '?'}",
             f"started     {fmt_time(run['started_at']) or '-'}",
             f"duration    {fmt_duration(run['duration']) or '-'}",
             f"selection   {what}" + ("  (forced)" if run["force"] else ""),
             f"parameters  {fmt_params(run['parameters']) or '-'}"]
    if run["resumed_from"]:
        lines.append(f"resumes     run {run['resumed_from']}")
    if run["error"]:
        lines.append(f"error       {run['error']}")
    outputs = output_paths(ctx.project, run)
    lines += ["", text_table(STEP_RUN_HEADERS, step_run_rows(run, outputs))]
    failures = [line for line in failure_lines(run, outputs) if line != run["error"]]
    if failures:
        lines += ["", *failures]
    checks = ctx.project.metrics.run_checks(run["id"])
    if checks["checks"]:
        from .commands_metrics import check_lines

        lines += [""] + check_lines(checks)
    ctx.out("\n".join(lines))
    return 0
