"""`%mlprod params NOTEBOOK` in a notebook frontend: one input per parameter of the notebook's
`parameters` cell, by its inferred type (int, float, bool, str; JSON text for lists, objects
and untyped `None` defaults), its help as the tooltip, and a Run button.

Run starts a run of the notebook's step (or from it, with the steps downstream) through the
same `Project.start_run` as `%mlprod run -p step.name=value`: the values are checked there, and
a refused value shows as a red line in the form, with no run started. Only values that differ
from the notebook's defaults are sent, so the run records what the user changed.
"""
from __future__ import annotations

import json
from html import escape

import ipywidgets as widgets

from ..errors import MlprodError
from .widgets import message_html
from .widgets_run import RunWidget, start_run_widget

_STYLE = {"description_width": "140px"}
_TYPED = {"int": widgets.IntText, "float": widgets.FloatText, "bool": widgets.Checkbox,
          "str": widgets.Text}


def parameter_input(spec: dict) -> widgets.Widget:
    """The input for one parameter spec ({"name", "type", "default", "help"})."""
    kind, default = spec["type"], spec["default"]
    tooltip = spec.get("help") or f"{spec['name']} ({kind})"
    common = dict(description=spec["name"], tooltip=tooltip, style=_STYLE)
    if kind in _TYPED:
        if kind == "bool":
            return widgets.Checkbox(value=bool(default), indent=True, **common)
        return _TYPED[kind](value=default, **common)
    return widgets.Text(value=json.dumps(default), placeholder="JSON", **common)


class ParamsForm(widgets.VBox):
    def __init__(self, project, info: dict, *, trigger: str):
        self.project = project
        self.trigger = trigger
        self.path = info["path"]
        self.step = (info.get("step") or {}).get("name")
        self.specs = {p["name"]: p for p in info["parameters"]}
        self.inputs = {name: parameter_input(spec) for name, spec in self.specs.items()}
        self.downstream = widgets.Checkbox(value=False, description="and the steps downstream",
                                           indent=False, layout=widgets.Layout(width="auto"))
        self.force = widgets.Checkbox(value=False, description="force (rerun if up to date)",
                                      indent=False, layout=widgets.Layout(width="auto"))
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary",
                                         disabled=self.step is None,
                                         tooltip=f"run step {self.step} with these values"
                                         if self.step else "not a pipeline step")
        self.run_button.on_click(self.run)
        self.run_button.add_class("mlprod-params-run")
        self.message = widgets.HTML(
            "" if self.step else message_html(f"{self.path} is not a pipeline step: tag it to "
                                              "run it"))
        self.run_area = widgets.VBox()
        self.run_widget: RunWidget | None = None
        title = f"parameters of {self.path}" + (f" (step {self.step})" if self.step else "")
        if not self.specs:
            title += ": none (no parameters cell)"
        super().__init__([widgets.HTML(f"<b>{escape(title)}</b>"), *self.inputs.values(),
                          widgets.HBox([self.run_button, self.downstream, self.force]),
                          self.message, self.run_area])
        self.add_class("mlprod-params")
        for name, field in self.inputs.items():
            field.add_class(f"mlprod-param-{name}")

    def values(self) -> dict:
        """{"step.name": value} for the inputs changed from the defaults. JSON inputs stay text:
        the run service parses and checks them as it does `-p name=value`."""
        changed = {}
        for name, field in self.inputs.items():
            spec = self.specs[name]
            if spec["type"] in _TYPED:
                if field.value != spec["default"]:
                    changed[f"{self.step}.{name}"] = field.value
            elif field.value.strip() != json.dumps(spec["default"]):
                changed[f"{self.step}.{name}"] = field.value
        return changed

    def run(self, _button=None) -> RunWidget | None:
        """Start the run; a refused request (bad value, a run already active...) shows its
        message in the form instead."""
        self.message.value = ""
        downstream = self.downstream.value
        request = {"steps": None if downstream else [self.step],
                   "from_step": self.step if downstream else None,
                   "parameters": self.values(), "force": self.force.value, "from_text": True}
        try:
            self.run_widget = start_run_widget(self.project, request, self.trigger)
        except MlprodError as exc:
            self.message.value = message_html(exc.message, error=True)
            return None
        self.run_area.children = [self.run_widget]
        return self.run_widget
