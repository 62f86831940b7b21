"""`%mlprod params NOTEBOOK|STEP`: a notebook's typed parameters.

In a notebook frontend, a form (widgets_params.py) whose Run button starts a run of that step
with the values typed, as `%mlprod run --steps STEP -p STEP.name=value` would. Elsewhere
(papermill, a terminal, `--text`), a table of the parameters and the command that runs them.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

from ..cli.output import fmt_value, text_table
from ..errors import InvalidInput
from .output import Rich, html_table
from .widgets import use_widgets

PARAM_HEADERS = ["parameter", "type", "default", "help"]


def add_parsers(sub, common) -> None:
    params = sub.add_parser("params", parents=[common],
                            help="a notebook's typed parameters: a form whose Run button starts "
                                 "a run (a table where widgets are not shown)")
    params.add_argument("notebook", metavar="NOTEBOOK|STEP",
                        help="the notebook (relative to this kernel's folder or the project) "
                             "or a step name")


def cmd_params(magics, ns):
    from . import TRIGGER

    project = magics._project(ns)
    info = notebook_parameters(project, ns.notebook)
    if use_widgets(ns):
        from .widgets_params import ParamsForm

        return ParamsForm(project, info, trigger=TRIGGER)
    return params_view(info)


COMMANDS = {"params": cmd_params}


def notebook_parameters(project, target: str) -> dict:
    """Project.get_step of a notebook named as the kernel sees it, project-relative, or by its
    step name: {"path", "step" (None if untagged), "parameters"}."""
    if not target.endswith(".ipynb"):
        return project.get_step(project.pipeline().step(target, field="notebook").path)
    local = Path(target).expanduser()
    if local.exists():
        try:
            target = local.resolve().relative_to(project.root).as_posix()
        except ValueError:
            raise InvalidInput(f"notebook {target} is outside the project {project.root}",
                               field="notebook", code="path_outside_project") from None
    return project.get_step(target)


def params_view(info: dict) -> Rich:
    """The text fallback: the parameters as a table, then how to run them."""
    rows = [[p["name"], p["type"], fmt_value(p["default"]), p.get("help") or ""]
            for p in info["parameters"]]
    step = (info.get("step") or {}).get("name")
    if step and rows:
        hint = (f"run it: %mlprod run --steps {step} -p {rows[0][0]}=VALUE ... "
                "(a form where widgets are shown)")
    elif step:
        hint = f"step {step} has no parameters: %mlprod run --steps {step}"
    else:
        hint = f"{info['path']} is not a pipeline step: tag it to run it"
    if not rows:
        text = f"{info['path']} has no parameters cell"
        return Rich(f"<div>{escape(text)}</div><div style='color:#607d8b'>{escape(hint)}</div>",
                    f"{text}\n{hint}", info)
    title = f"parameters of {info['path']}"
    return Rich(f"<div><b>{escape(title)}</b></div>" + html_table(PARAM_HEADERS, rows) +
                f"<div style='color:#607d8b'>{escape(hint)}</div>",
                f"{title}\n{text_table(PARAM_HEADERS, rows)}\n{hint}", info)
