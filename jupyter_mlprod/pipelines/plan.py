"""Turning a run request (selection + parameters) into a validated plan, before any kernel."""
from __future__ import annotations

import dataclasses

from ..errors import InvalidInput
from ..notebooks.parameters import ParameterSpec, coerce_value


@dataclasses.dataclass(frozen=True)
class StepPlan:
    name: str
    kernel: str
    overrides: dict      # what papermill injects
    effective: dict      # defaults + overrides: what the fingerprint covers


@dataclasses.dataclass(frozen=True)
class RunPlan:
    order: list[str]
    steps: dict[str, StepPlan]
    parameters: dict     # as the user gave them, coerced
    force: bool
    last_successes: dict


def resolve_parameters(pipeline, selected: list[str], raw: dict | None, *, from_text: bool
                       ) -> tuple[dict[str, dict], dict]:
    """`name=value` applies to every selected step declaring `name`; `step.name=value` to one.
    Returns per-step overrides and the normalised parameters as given."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput("parameters must be an object of name -> value", field="parameters")
    specs: dict[str, dict[str, ParameterSpec]] = {
        name: {p.name: p for p in pipeline.notebooks[pipeline.steps[name].path].parameters}
        for name in selected}
    per_step: dict[str, dict] = {name: {} for name in selected}
    given: dict = {}
    for key, value in raw.items():
        field = f"parameters.{key}"
        if not isinstance(key, str) or not key:
            raise InvalidInput("parameter names must be non-empty strings", field="parameters")
        step, _, pname = key.rpartition(".")
        if step:
            if step not in pipeline.steps:
                raise InvalidInput(f"parameter {key!r} names unknown step {step!r}", field=field,
                                   code="unknown_step")
            if step not in per_step:
                raise InvalidInput(f"parameter {key!r} targets step {step!r}, which is not part of "
                                   "this run", field=field)
            spec = specs[step].get(pname)
            if spec is None:
                raise InvalidInput(f"step {step!r} has no parameter {pname!r} (it has: "
                                   f"{', '.join(specs[step]) or 'none'})", field=field,
                                   code="unknown_parameter")
            per_step[step][pname] = given[key] = coerce_value(spec, value, field=field,
                                                              from_text=from_text)
            continue
        targets = [name for name in selected if pname in specs[name]]
        if not targets:
            known = sorted({p for s in specs.values() for p in s})
            raise InvalidInput(f"no step in this run has a parameter {pname!r} (known: "
                               f"{', '.join(known) or 'none'})", field=field, code="unknown_parameter")
        for name in targets:
            per_step[name][pname] = given[key] = coerce_value(specs[name][pname], value, field=field,
                                                              from_text=from_text)
    for name in selected:  # a step-qualified value wins over a plain one
        for key, value in raw.items():
            step, _, pname = key.rpartition(".")
            if step == name:
                per_step[name][pname] = given[key]
    return per_step, given


def effective_parameters(pipeline, name: str, overrides: dict) -> dict:
    defaults = {p.name: p.default for p in pipeline.notebooks[pipeline.steps[name].path].parameters}
    return {**defaults, **overrides}
