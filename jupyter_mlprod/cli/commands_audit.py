"""The audit trail from the command line:

    mlprod audit [--object X] [--actor Y] [--since T] [--action A] [--outcome O] [--bundle B]
    mlprod audit verify            exit 1 and the rows at fault when the chain is broken
    mlprod audit export [-o FILE]  JSON lines, oldest first (stdout by default)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidInput
from ..words import counted
from .output import fmt_time, one_line, text_table

AUDIT_HEADERS = ["id", "when", "actor", "action", "object", "node", "bundle", "outcome"]
EXIT_BROKEN = 1


def audit_rows(events: list[dict]) -> list[list[str]]:
    rows = []
    for e in events:
        outcome = e["outcome"]
        if outcome != "ok":
            code = e["details"].get("code")
            outcome += f" ({code})" if code else ""
            if e.get("reason"):
                outcome += ": " + one_line(e["reason"], 60)
        target = f"{e['object_type']}:{e['object_id']}" if e["object_id"] else e["object_type"]
        rows.append([str(e["id"]), fmt_time(e["at"]), e["actor"], e["action"], target,
                     e["node"] or "", (e["bundle_id"] or "")[:12], outcome])
    return rows


def _filters(ns) -> dict:
    return {"action": ns.action, "object": ns.object, "actor": ns.actor, "since": ns.since,
            "outcome": ns.outcome}


def cmd_audit(ctx) -> int:
    ns = ctx.ns
    project = ctx.project
    bundle = project.bundles.resolve(ns.bundle) if ns.bundle else None
    data = project.audit_trail.list(ns.limit, bundle=bundle, **_filters(ns))
    if ctx.json:
        ctx.emit(data, "")
    elif not data["events"]:
        ctx.out("no audit events")
    else:
        ctx.out(text_table(AUDIT_HEADERS, audit_rows(data["events"])))
    return 0


def cmd_verify(ctx) -> int:
    result = ctx.project.audit_trail.verify()
    if result["ok"]:
        text = f"audit chain intact: {counted(result['checked'], 'event')} checked"
    else:
        text = "\n".join([f"audit chain BROKEN ({counted(len(result['problems']), 'problem')}, "
                          f"{counted(result['checked'], 'event')} checked):"]
                         + [f"  {p['message']}" for p in result["problems"]])
    ctx.emit(result, text)
    return 0 if result["ok"] else EXIT_BROKEN


def cmd_export(ctx) -> int:
    ns = ctx.ns
    lines = ctx.project.audit_trail.export_lines(**_filters(ns))
    if not ns.output or ns.output == "-":
        count = 0
        for line in lines:
            ctx.stdout.write(line)
            count += 1
        return 0
    dest = Path(ns.output).expanduser()
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a folder; name a file", field="output")
    count = 0
    try:
        with open(dest, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(line)
                count += 1
    except OSError as exc:
        raise InvalidInput(f"cannot write {dest}: {exc.strerror}", field="output") from None
    ctx.err(f"{counted(count, 'event')} written to {dest}")
    return 0


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--object", metavar="TYPE:ID",
                   help="only this object, e.g. scenario:nightly, run:12, endpoint:churn")
    p.add_argument("--actor", help="only this actor (a user, scheduler:<scenario>, token:<name>)")
    p.add_argument("--since", metavar="WHEN",
                   help="ISO date/time, or a duration back from now: 30m, 12h, 7d")
    p.add_argument("--action", help="only this action, e.g. scenario.create or 'scenario.*'")
    p.add_argument("--outcome", choices=("ok", "refused"), help="only done or refused events")


def register(command, sub, common) -> None:
    p = command("audit", cmd_audit, "the audit trail, newest first (who did what to which "
                "object, when, done or refused): verify, export")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    p.add_argument("--bundle", metavar="BUNDLE", help="only events about this bundle")
    _add_filters(p)
    actions = p.add_subparsers(dest="audit_command", metavar="ACTION",
                               parser_class=type(p))
    command("verify", cmd_verify, "check the hash chain: names every edited or deleted event "
            "(exit 1 when broken)", parent=actions)
    q = command("export", cmd_export, "the events as JSON lines, oldest first", parent=actions)
    q.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    _add_filters(q)
