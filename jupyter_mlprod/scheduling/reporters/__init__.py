"""Reporter types, chosen by name. Register more with `register_reporter("kind", "module:Class")`;
a type implements `reporters.base.ReporterType` (normalize + send)."""
from __future__ import annotations

from ...registry import Registry
from .base import WHEN, ReporterType, ReportError, should_report

_REGISTRY: Registry[ReporterType] = Registry("reporter", {
    "webhook": "jupyter_mlprod.scheduling.reporters.webhook:WebhookReporter",
    "email": "jupyter_mlprod.scheduling.reporters.email:EmailReporter",
})


def register_reporter(kind: str, factory) -> None:
    _REGISTRY.register(kind, factory)


def reporter_kinds() -> list[str]:
    return _REGISTRY.names()


def get_reporter(kind: str) -> ReporterType:
    return _REGISTRY.shared(kind)


def normalize_reporter(raw, field: str, ctx) -> dict | None:
    from ..scenarios import check_keys

    problems = ctx.problems
    if not isinstance(raw, dict):
        problems.error(field, "a reporter must be an object with a type")
        return None
    kind = raw.get("type")
    if kind not in _REGISTRY:
        problems.error(f"{field}.type", f"unknown reporter type {kind!r} (choose one of: "
                       f"{', '.join(reporter_kinds())})")
        return None
    reporter = get_reporter(kind)
    if "password" in raw:
        problems.error(f"{field}.password", "passwords are never stored: put it in an environment "
                       "variable of the scheduler and name that variable in password_env",
                       code="secret_in_spec")
    check_keys({k: v for k, v in raw.items() if k != "password"}, reporter.keys, field, problems)
    when = raw.get("when", "always")
    if when not in WHEN:
        problems.error(f"{field}.when", f"when must be one of {', '.join(WHEN)}, not {when!r}")
    spec = reporter.normalize(raw, field, ctx)
    spec["when"] = when
    return spec


__all__ = ["ReportError", "ReporterType", "WHEN", "get_reporter", "normalize_reporter",
           "register_reporter", "reporter_kinds", "should_report"]
