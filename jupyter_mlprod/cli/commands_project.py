"""`mlprod init`, `mlprod steps`, `mlprod dag`."""
from __future__ import annotations

from pathlib import Path

from .output import STEP_HEADERS, display_path, step_rows, text_table
from ..words import counted


def register(command, sub=None, common=None) -> None:
    p = command("init", cmd_init, "create mlprod.toml and the project's state (.mlprod/) in DIR")
    p.add_argument("dir", nargs="?", default=".", metavar="DIR",
                   help="project folder (default: the current one; created if missing)")
    p.add_argument("--name", help="project name (default: the folder's name)")

    command("steps", cmd_steps, "list the pipeline's steps with their latest status, and any "
            "problems with the pipeline")

    p = command("dag", cmd_dag, "draw the pipeline as SVG, steps coloured by latest status")
    p.add_argument("-o", "--output", metavar="FILE", help="write the SVG to FILE (default: stdout)")


def cmd_init(ctx) -> int:
    from ..project import Project

    project = Project.create(ctx.ns.dir, name=ctx.ns.name, store_url=ctx.ns.store,
                             executor=ctx.ns.executor)
    try:
        config = project.root / "mlprod.toml"
        data = {"root": str(project.root), "config": str(config), **project.settings.describe()}
    finally:
        project.close()
    ctx.emit(data, f"created {display_path(config)} (project {data['name']!r}, store "
                   f"{data['store']}); tag notebooks with `mlprod step tag NOTEBOOK --name STEP`")
    return 0


def cmd_steps(ctx) -> int:
    view = ctx.project.pipeline_view()
    if ctx.json:
        ctx.emit(view, "")
        return 0
    settings = ctx.project.settings
    lines = [f"project {settings.name} ({display_path(settings.root)})", ""]
    if view["steps"]:
        lines.append(text_table(STEP_HEADERS, step_rows(view)))
    else:
        lines.append("no steps yet: tag a notebook with `mlprod step tag NOTEBOOK --name STEP`")
    if view["problems"]:
        lines += ["", f"{counted(len(view['problems']), 'problem')}:"]
        lines += [f"  - {p['message']}" for p in view["problems"]]
    ctx.out("\n".join(lines))
    return 0


def cmd_dag(ctx) -> int:
    from ..pipelines.render import render_svg

    svg = render_svg(ctx.project.pipeline_view(), title=ctx.project.settings.name)
    if ctx.ns.output:
        Path(ctx.ns.output).write_text(svg, encoding="utf-8")
        ctx.emit({"output": str(Path(ctx.ns.output).resolve())}, f"wrote {ctx.ns.output}")
    else:
        ctx.stdout.write(svg + "\n")
    return 0
