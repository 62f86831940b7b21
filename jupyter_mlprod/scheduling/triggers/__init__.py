"""Trigger types, chosen by name (like papermill's engines). Register more with
`register_trigger("kind", "module:Class")`; a type implements `triggers.base.TriggerType`."""
from __future__ import annotations

from ...registry import Registry
from .base import PollEnv, TriggerError, TriggerType, trigger_key

_REGISTRY: Registry[TriggerType] = Registry("trigger", {
    "cron": "jupyter_mlprod.scheduling.triggers.timed:CronTrigger",
    "interval": "jupyter_mlprod.scheduling.triggers.timed:IntervalTrigger",
    "files": "jupyter_mlprod.scheduling.triggers.files:FilesTrigger",
    "sql": "jupyter_mlprod.scheduling.triggers.sql:SqlTrigger",
    "run_finished": "jupyter_mlprod.scheduling.triggers.events:RunFinishedTrigger",
    "manual": "jupyter_mlprod.scheduling.triggers.events:ManualTrigger",
    "drift": "jupyter_mlprod.scheduling.triggers.drift:DriftTrigger",
})


def register_trigger(kind: str, factory) -> None:
    _REGISTRY.register(kind, factory)


def trigger_kinds() -> list[str]:
    return _REGISTRY.names()


def get_trigger(kind: str) -> TriggerType:
    return _REGISTRY.shared(kind)


def normalize_trigger(raw, field: str, ctx) -> dict | None:
    problems = ctx.problems
    if not isinstance(raw, dict):
        problems.error(field, "a trigger must be an object with a type")
        return None
    kind = raw.get("type")
    if kind not in _REGISTRY:
        problems.error(f"{field}.type", f"unknown trigger type {kind!r} (choose one of: "
                       f"{', '.join(trigger_kinds())})")
        return None
    trigger = get_trigger(kind)
    from ..scenarios import check_keys

    check_keys(raw, trigger.keys, field, problems)
    spec = trigger.normalize(raw, field, ctx)
    if spec is not None and ctx.deep and not problems.has_errors_under(field):
        baseline = trigger.check(spec, field, ctx)
        if baseline is not None:
            ctx.baselines[field] = baseline
    return spec


__all__ = ["PollEnv", "TriggerError", "TriggerType", "get_trigger", "normalize_trigger",
           "register_trigger", "trigger_key", "trigger_kinds"]
