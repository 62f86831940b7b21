"""`mlprod init`, `mlprod steps`, `mlprod dag`."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import Conflict, InvalidInput
from . import args as shared
from .output import STEP_HEADERS, display_path, step_rows, text_table


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
    from ..settings import CONFIG_FILE, Settings

    root = Path(ctx.ns.dir).expanduser().resolve()
    config = root / CONFIG_FILE
    if config.exists():
        raise Conflict(f"{config} already exists; this folder is already a project", field="dir")
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} is not a folder", field="dir")
    name = ctx.ns.name if ctx.ns.name is not None else root.name
    if not name.strip():
        raise InvalidInput("--name cannot be empty", field="name")
    text = _config_text(name.strip(), ctx.ns.store, ctx.ns.executor)
    created_root = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    try:
        Settings.load(root, shared.overrides(ctx.ns))  # refuse bad --store/--executor first
        config.write_text(text, encoding="utf-8")
        project = Project(root)                         # creates .mlprod/ and the store's tables
    except BaseException:
        config.unlink(missing_ok=True)
        if created_root:
            _remove_empty(root)
        raise
    try:
        data = {"root": str(root), "config": str(config), **project.settings.describe()}
    finally:
        project.close()
    ctx.emit(data, f"created {display_path(config)} (project {name.strip()!r}, store "
                   f"{data['store']}); tag notebooks with `mlprod step tag NOTEBOOK --name STEP`")
    return 0


def _config_text(name: str, store: str | None, executor: str | None) -> str:
    lines = ["[project]", f"name = {json.dumps(name)}", "", "[runs]",
             f"executor = {json.dumps(executor or 'local')}  # or \"dask\""]
    if store:
        lines += ["", "[store]", f"url = {json.dumps(store)}"]
    return "\n".join(lines) + "\n"


def _remove_empty(root: Path) -> None:
    import shutil

    shutil.rmtree(root / ".mlprod", ignore_errors=True)
    try:
        root.rmdir()
    except OSError:
        pass


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
        lines += ["", f"problems ({len(view['problems'])}):"]
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
