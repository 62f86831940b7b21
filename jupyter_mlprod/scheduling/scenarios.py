"""The scenario model: normalising and validating a spec, collecting every problem with the exact
field it concerns (`triggers[0].cron`, `run.parameters.n_rows`, `reporters[1].url`...).

Steps and parameters are checked through the pipeline itself (`Pipeline.select`,
`plan.resolve_parameters`) so a scenario obeys the same rule as a run started by hand.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
from typing import Callable, Mapping

from ..errors import InvalidInput, MlprodError

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
TOP_KEYS = ("name", "description", "enabled", "triggers", "run", "reporters", "policies", "version",
            "steps")
RUN_KEYS = ("steps", "from", "parameters", "force")
POLICY_DEFAULTS = {"misfire": "catch_up_once", "misfire_grace": 60, "overlap": "skip",
                   "retries": 0, "retry_delay": 60, "retry_on": "lost"}
_CHOICES = {"misfire": ("catch_up_once", "skip"), "overlap": ("skip", "queue"),
            "retry_on": ("lost", "failure")}
_RANGES = {"misfire_grace": (1, 7 * 86400), "retries": (0, 10), "retry_delay": (0, 86400)}


class Problems:
    """Every error and warning found in one spec; `raise_first()` for the save path."""

    def __init__(self):
        self.errors: list[dict] = []
        self.warnings: list[dict] = []

    def error(self, field: str, message: str, code: str = "invalid") -> None:
        self.errors.append({"field": field, "message": message, "code": code})

    def warn(self, field: str, message: str) -> None:
        self.warnings.append({"field": field, "message": message})

    def has_errors_under(self, prefix: str) -> bool:
        return any(e["field"] == prefix or e["field"].startswith((prefix + ".", prefix + "["))
                   for e in self.errors)

    def raise_first(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise InvalidInput(first["message"], field=first["field"], code=first["code"],
                               details={"errors": self.errors} if len(self.errors) > 1 else None)


@dataclasses.dataclass
class Context:
    """What validation may look at. `deep` allows I/O: connect to SQL URLs, hash files."""

    root: os.PathLike
    load_pipeline: Callable
    problems: Problems
    now: dt.datetime
    deep: bool = False
    current_name: str | None = None
    names: dict[str, int] = dataclasses.field(default_factory=dict)        # other scenarios
    upstreams: dict[str, set[str]] = dataclasses.field(default_factory=dict)  # run_finished graph
    environ: Mapping[str, str] = dataclasses.field(default_factory=lambda: os.environ)
    baselines: dict = dataclasses.field(default_factory=dict)   # field -> polled fingerprint
    text_parameters: bool = False   # run.parameters typed as text (CLI -p): coerce by declared type
    endpoint_names: Callable | None = None   # () -> names, for scenario steps naming an endpoint
    node_names: Callable | None = None       # () -> registered node names
    _pipeline: object = None

    def pipeline(self):
        if self._pipeline is None:
            self._pipeline = self.load_pipeline()
        return self._pipeline


def check_keys(raw: dict, allowed, field: str, problems: Problems) -> None:
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1) or \
                [a for a in allowed if _abbreviates(str(key), a)][:1]
            hint = f"; did you mean {close[0]!r}?" if close else \
                f" (allowed: {', '.join(sorted(allowed))})"
            problems.error(f"{field}.{key}" if field else str(key), f"unknown field {key!r}{hint}",
                           code="unknown_field")


def _abbreviates(short: str, long: str) -> bool:
    """'tz' abbreviates 'timezone': its letters appear in order, starting with the first."""
    if len(short) < 2 or not long.startswith(short[0]):
        return False
    it = iter(long)
    return all(ch in it for ch in short.lower())


def number(raw: dict, key: str, field: str, problems: Problems, default, lo, hi, *,
           integer: bool = True):
    value = raw.get(key, default)
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or \
        (integer and isinstance(value, float) and not value.is_integer())
    if bad or not lo <= value <= hi:
        kind = "a whole number" if integer else "a number"
        problems.error(f"{field}.{key}", f"{key} must be {kind} from {lo} to {hi}, not {value!r}")
        return default
    return int(value) if integer else float(value)


def normalize(spec, ctx: Context) -> dict | None:
    """The normalised spec, or None when `ctx.problems` holds errors."""
    from .reporters import normalize_reporter
    from .triggers import normalize_trigger

    problems = ctx.problems
    if not isinstance(spec, dict):
        problems.error("scenario", "a scenario must be an object with a name, triggers and run")
        return None
    check_keys(spec, TOP_KEYS, "", problems)
    out: dict = {}
    name = spec.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        problems.error("name", "name must start with a letter and use only letters, digits, "
                       "'_', '.' or '-' (at most 64 characters)")
    elif name in ctx.names and name != ctx.current_name:
        problems.error("name", f"a scenario named {name!r} already exists", code="duplicate_name")
    out["name"] = name
    description = spec.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        problems.error("description", "description must be text of at most 2000 characters")
    out["description"] = description if isinstance(description, str) else ""
    enabled = spec.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.error("enabled", "enabled must be true or false")
    out["enabled"] = enabled is not False

    triggers = spec.get("triggers")
    if not isinstance(triggers, list) or not triggers:
        problems.error("triggers", "add at least one trigger (use {\"type\": \"manual\"} for a "
                       "scenario you only run by hand)")
        triggers = []
    out["triggers"] = [normalize_trigger(t, f"triggers[{i}]", ctx) for i, t in enumerate(triggers)]
    _check_run_finished_graph(out, ctx)
    stepped = isinstance(spec.get("steps"), list) and bool(spec["steps"])
    if stepped and not spec.get("run"):   # its run steps say what to run
        out["run"] = {"steps": None, "from": None, "parameters": {}, "force": False}
    else:
        out["run"] = normalize_run(spec.get("run", {}), ctx)
    reporters = spec.get("reporters", [])
    if not isinstance(reporters, list):
        problems.error("reporters", "reporters must be a list")
        reporters = []
    out["reporters"] = [normalize_reporter(r, f"reporters[{i}]", ctx)
                        for i, r in enumerate(reporters)]
    out["policies"] = normalize_policies(spec.get("policies", {}), problems)
    from .steps.spec import normalize_steps

    out["steps"] = normalize_steps(spec.get("steps"), ctx, out["run"])
    return None if problems.errors else out


def normalize_run(raw, ctx: Context) -> dict:
    from ..pipelines.plan import resolve_parameters

    problems = ctx.problems
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.error("run", "run must be an object: {\"steps\": [...]} or {\"from\": step}, "
                       "with optional parameters")
        return {}
    check_keys(raw, RUN_KEYS, "run", problems)
    steps, start, parameters = raw.get("steps"), raw.get("from"), raw.get("parameters") or {}
    force = raw.get("force", False)
    out = {"steps": steps, "from": start, "parameters": parameters, "force": force}
    if not isinstance(force, bool):
        problems.error("run.force", "force must be true or false")
    try:
        pipeline = ctx.pipeline()
    except MlprodError as exc:
        problems.error("run", f"the project's pipeline cannot be read: {exc.message}")
        return out
    if not pipeline.steps:
        problems.error("run", "the project has no steps yet: tag a notebook as a step first",
                       code="no_steps")
        return out
    known = ", ".join(sorted(pipeline.steps))
    if steps is not None:
        if not isinstance(steps, list) or not steps:
            problems.error("run.steps", "steps must be a non-empty list of step names (leave it "
                           "out to run the whole pipeline)")
            return out
        for i, step in enumerate(steps):
            if not isinstance(step, str) or step not in pipeline.steps:
                problems.error(f"run.steps[{i}]", f"unknown step {step!r} (steps: {known})",
                               code="unknown_step")
    if start is not None:
        if steps is not None:
            problems.error("run.from", "give either steps or from, not both")
        elif not isinstance(start, str) or start not in pipeline.steps:
            problems.error("run.from", f"unknown step {start!r} (steps: {known})",
                           code="unknown_step")
    if problems.has_errors_under("run"):
        return out
    order = pipeline.topological(pipeline.select(steps, start))
    try:
        _, out["parameters"] = resolve_parameters(pipeline, order, parameters,
                                                  from_text=ctx.text_parameters)
    except InvalidInput as exc:
        problems.error(f"run.{exc.field}" if exc.field else "run.parameters", exc.message, exc.code)
    return out


def normalize_policies(raw, problems: Problems) -> dict:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.error("policies", "policies must be an object")
        return dict(POLICY_DEFAULTS)
    check_keys(raw, POLICY_DEFAULTS, "policies", problems)
    out = dict(POLICY_DEFAULTS)
    for key, choices in _CHOICES.items():
        value = raw.get(key, POLICY_DEFAULTS[key])
        if value not in choices:
            problems.error(f"policies.{key}", f"{key} must be one of {', '.join(choices)}, "
                           f"not {value!r}")
        else:
            out[key] = value
    for key, (lo, hi) in _RANGES.items():
        out[key] = number(raw, key, "policies", problems, POLICY_DEFAULTS[key], lo, hi)
    return out


def _check_run_finished_graph(out: dict, ctx: Context) -> None:
    """A run_finished trigger may not point at its own scenario, directly or round a loop."""
    me = out.get("name")
    for i, trig in enumerate(out["triggers"]):
        if not trig or trig.get("type") != "run_finished" or not isinstance(trig["scenario"], str):
            continue
        target = trig["scenario"]
        seen, todo = set(), [target]
        while todo:
            name = todo.pop()
            if name == me:
                path = "itself" if target == me else f"{target!r}, which leads back to it"
                ctx.problems.error(f"triggers[{i}].scenario", f"scenario {me!r} cannot be "
                                   f"triggered by {path}: that would loop forever", code="cycle")
                break
            if name not in seen:
                seen.add(name)
                todo.extend(ctx.upstreams.get(name, ()))


def upstreams_of(spec: dict) -> set[str]:
    return {t["scenario"] for t in spec.get("triggers", []) if t.get("type") == "run_finished"}
