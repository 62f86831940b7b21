"""Checks: conditions on a step's metrics, declared in `metadata.mlprod.checks`.

    {"metric": "roc_auc", "min": 0.80, "warn_below": 0.85}
    {"metric": "data/applications.csv:rows", "min": 1000}
    {"metric": "roc_auc", "max_drop": 0.02}        # versus the last successful run
    {"metric": "data/applications.csv:income:nulls", "max": 0}

Each check gives one outcome: ERROR (a hard bound is crossed: fails the step), WARNING (a warn
bound is crossed), OK, or EMPTY (the metric, or the earlier value a drop needs, is missing).
"""
from __future__ import annotations

import dataclasses
import math

from ..errors import InvalidInput
from .api import MAX_NAME

OUTCOMES = ("OK", "WARNING", "ERROR", "EMPTY")
# bound key -> (outcome when crossed, human wording)
BOUNDS = {
    "min": ("ERROR", "below the minimum"),
    "max": ("ERROR", "above the maximum"),
    "warn_below": ("WARNING", "below the warning level"),
    "warn_above": ("WARNING", "above the warning level"),
    "max_drop": ("ERROR", "dropped more than allowed"),
    "warn_drop": ("WARNING", "dropped more than the warning level"),
}
KEYS = ("metric", *BOUNDS)
_SEVERITY = {"OK": 0, "EMPTY": 1, "WARNING": 2, "ERROR": 3}


def parse_checks(raw: object, field: str) -> tuple[dict, ...]:
    """Validate a step's checks; the error names the field, e.g. `step.checks[0].min`."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput(f"{field} must be a list of checks", field=field)
    checks = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be an object like "
                               '{"metric": "roc_auc", "min": 0.8}', field=where)
        unknown = sorted(set(item) - set(KEYS))
        if unknown:
            raise InvalidInput(f"{where}.{unknown[0]}: unknown check kind {unknown[0]!r} "
                               f"(allowed: {', '.join(KEYS)})", field=f"{where}.{unknown[0]}")
        metric = item.get("metric")
        if not isinstance(metric, str) or not metric.strip() or len(metric) > MAX_NAME:
            raise InvalidInput(f"{where}.metric must name a metric (1 to {MAX_NAME} characters)",
                               field=f"{where}.metric")
        check = {"metric": metric.strip()}
        for key in BOUNDS:
            if key not in item:
                continue
            value = item[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not math.isfinite(value):
                raise InvalidInput(f"{where}.{key} must be a number, got {value!r}",
                                   field=f"{where}.{key}")
            if key.endswith("_drop") and value < 0:
                raise InvalidInput(f"{where}.{key} must be >= 0", field=f"{where}.{key}")
            check[key] = value
        if len(check) == 1:
            raise InvalidInput(f"{where} has no condition: give one of "
                               f"{', '.join(BOUNDS)}", field=where)
        checks.append(check)
    return tuple(checks)


@dataclasses.dataclass(frozen=True)
class CheckResult:
    position: int
    check: dict
    outcome: str
    value: float | None
    message: str

    def to_dict(self) -> dict:
        return {"position": self.position, "metric": self.check["metric"],
                "check": dict(self.check), "outcome": self.outcome, "value": self.value,
                "message": self.message}


def evaluate(position: int, check: dict, value: float | None, *, missing_reason: str | None,
             previous: tuple[int, float] | None) -> CheckResult:
    """One check against the metric's value (None: not recorded, `missing_reason` says why)
    and the value of the last successful run of the step (`(run_id, value)` or None)."""
    metric = check["metric"]
    if value is None:
        reason = missing_reason or "was not recorded by this step run"
        return CheckResult(position, check, "EMPTY", None, f"{metric}: {reason}")
    crossed: list[tuple[str, str]] = []
    notes: list[str] = []
    for key, bound in check.items():
        if key == "metric":
            continue
        outcome, wording = BOUNDS[key]
        if key.endswith("_drop"):
            if previous is None:
                notes.append(f"no earlier successful run to compare {key} with")
                continue
            drop = previous[1] - value
            if drop > bound:
                crossed.append((outcome, f"{metric} = {value:g} {wording}: {drop:g} below "
                                f"{previous[1]:g} of run {previous[0]} ({key} {bound:g})"))
            continue
        low = key in ("min", "warn_below")
        if (value < bound) if low else (value > bound):
            crossed.append((outcome, f"{metric} = {value:g} is {wording} ({key} {bound:g})"))
    if crossed:
        outcome, message = max(crossed, key=lambda c: _SEVERITY[c[0]])
        return CheckResult(position, check, outcome, value, message)
    if notes and len(check) == 2:  # the drop was the only condition: nothing could be judged
        return CheckResult(position, check, "EMPTY", value, f"{metric} = {value:g}: {notes[0]}")
    return CheckResult(position, check, "OK", value,
                       f"{metric} = {value:g} passes" + (f" ({notes[0]})" if notes else ""))


def worst(outcomes) -> str | None:
    outcomes = list(outcomes)
    return max(outcomes, key=_SEVERITY.__getitem__) if outcomes else None
