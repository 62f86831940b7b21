"""`mlprod step tag|untag|show`."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidInput
from .output import fmt_value, text_table


def register(command, sub, common) -> None:
    step = sub.add_parser("step", help="step notebooks: tag (or edit), untag, show",
                          description="tag, edit, untag or show a step notebook", parents=[common])
    actions = step.add_subparsers(dest="action", metavar="ACTION", parser_class=type(step))
    actions.required = True

    p = command("tag", cmd_tag, "tag a notebook as a pipeline step, or edit its step; options "
                "not given keep their current values", parent=actions)
    p.add_argument("notebook", metavar="NOTEBOOK", help="path of the notebook (.ipynb)")
    p.add_argument("--name", help="step name (required when the notebook is not a step yet)")
    p.add_argument("--input", dest="inputs", action="append", metavar="PATH",
                   help="a file, folder or glob the step reads (repeatable; --input= clears)")
    p.add_argument("--output", dest="outputs", action="append", metavar="PATH",
                   help="a file, folder or glob the step writes (repeatable; --output= clears)")
    p.add_argument("--after", action="append", metavar="STEP",
                   help="run after this step even without a data dependency (repeatable; "
                        "--after= clears)")
    p.add_argument("--timeout", type=int, metavar="SECONDS",
                   help="kill the step after this long (0: the project's default)")
    p.add_argument("--retries", type=int, metavar="N", help="retries after a failure (0-10)")

    p = command("untag", cmd_untag, "stop treating a notebook as a step (the notebook stays)",
                parent=actions)
    p.add_argument("target", metavar="NOTEBOOK|NAME")

    p = command("show", cmd_show, "show a step's spec and its typed parameters", parent=actions)
    p.add_argument("target", metavar="NOTEBOOK|NAME")


def notebook_arg(ctx, value: str) -> str:
    """A notebook path as typed: relative to the current folder when that is inside the project,
    else to the project root. Returned project-relative (the core refuses what escapes it)."""
    if not value.endswith(".ipynb"):
        return value
    root = ctx.project.root
    cwd = Path.cwd().resolve()
    base = cwd if (cwd == root or root in cwd.parents) else root
    absolute = (base / value).resolve() if not os.path.isabs(value) else Path(value).resolve()
    return os.path.relpath(absolute, root).replace(os.sep, "/")


def _step_path(ctx, target: str) -> str:
    if target.endswith(".ipynb"):
        return notebook_arg(ctx, target)
    return ctx.project.pipeline().step(target).path


def cmd_tag(ctx) -> int:
    ns = ctx.ns
    path = notebook_arg(ctx, ns.notebook)
    current = ctx.project.get_step(path)["step"] or {}
    name = ns.name if ns.name is not None else current.get("name")
    if not name:
        raise InvalidInput(f"{path} is not a step yet: give it a name with --name", field="name")
    body = {
        "step": name,
        "inputs": _list(ns.inputs, current.get("inputs")),
        "outputs": _list(ns.outputs, current.get("outputs")),
        "after": _list(ns.after, current.get("after")),
        "timeout": current.get("timeout") if ns.timeout is None else (ns.timeout or None),
        "retries": current.get("retries", 0) if ns.retries is None else ns.retries,
    }
    result = ctx.project.tag_step(path, body)
    verb = "updated" if current else "tagged"
    ctx.emit(result, f"{verb} {result['path']} as step {result['step']['name']!r}\n\n"
                     + _describe(result))
    return 0


def _list(given: list[str] | None, current: list[str] | None) -> list[str]:
    if given is None:
        return list(current or [])
    return [item for item in given if item.strip()]


def cmd_untag(ctx) -> int:
    path = ctx.project.untag_step(_step_path(ctx, ctx.ns.target))
    ctx.emit({"path": path, "step": None}, f"untagged {path} (the notebook is unchanged otherwise)")
    return 0


def cmd_show(ctx) -> int:
    info = ctx.project.get_step(_step_path(ctx, ctx.ns.target))
    ctx.emit(info, _describe(info))
    return 0


def _describe(info: dict) -> str:
    step = info["step"]
    lines = [f"notebook    {info['path']}"]
    if step is None:
        lines.append("step        (not a step: tag it with `mlprod step tag NOTEBOOK --name STEP`)")
    else:
        lines += [f"step        {step['name']}",
                  f"inputs      {', '.join(step['inputs']) or '-'}",
                  f"outputs     {', '.join(step['outputs']) or '-'}",
                  f"after       {', '.join(step['after']) or '-'}",
                  f"timeout     {step['timeout'] or 'project default'}"
                  + (" s" if step["timeout"] else ""),
                  f"retries     {step['retries']}"]
    if info["parameters"]:
        rows = [[p["name"], p["type"], fmt_value(p["default"]), p.get("help") or ""]
                for p in info["parameters"]]
        lines += ["", "parameters (-p NAME=VALUE):",
                  text_table(["name", "type", "default", "help"], rows)]
    else:
        lines += ["", "parameters  none (no cell tagged `parameters`)"]
    return "\n".join(lines)
