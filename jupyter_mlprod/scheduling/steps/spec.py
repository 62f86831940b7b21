"""Validating a scenario's `steps` at save time; every problem names its field
(`steps[2].metrics.auc`, `steps[4].endpoint`)."""
from __future__ import annotations

from ..scenarios import NAME_RE, check_keys, number
from .registry import get_kind, kinds

COMMON = ("kind", "name", "if", "timeout")
CONDITIONS = ("success", "failure", "always")
MAX_STEPS = 50


def normalize_steps(raw, ctx, run: dict) -> list[dict]:
    problems = ctx.problems
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.error("steps", "steps must be a list of scenario steps")
        return []
    if len(raw) > MAX_STEPS:
        problems.error("steps", f"a scenario has at most {MAX_STEPS} steps")
        return []
    known = kinds()
    out: list[dict] = []
    recorded: set[str] = set()
    names: set[str] = set()
    for i, item in enumerate(raw):
        field = f"steps[{i}]"
        if not isinstance(item, dict):
            problems.error(field, "a scenario step must be an object with a kind")
            continue
        kind = item.get("kind")
        if kind not in known:
            problems.error(f"{field}.kind", f"unknown step kind {kind!r} (kinds: "
                           f"{', '.join(known)})", code="unknown_kind")
            continue
        impl = get_kind(kind)
        check_keys(item, COMMON + impl.fields, field, problems)
        step = {"kind": kind}
        name = item.get("name", f"{kind}{i}")
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.error(f"{field}.name", "a step name starts with a letter and uses letters, "
                           "digits, '_', '.' or '-'")
        elif name in names:
            problems.error(f"{field}.name", f"two steps are named {name!r}",
                           code="duplicate_name")
        names.add(name if isinstance(name, str) else "")
        step["name"] = name
        condition = item.get("if", "success")
        if condition not in CONDITIONS:
            problems.error(f"{field}.if", f"if must be one of {', '.join(CONDITIONS)}, not "
                           f"{condition!r}")
        step["if"] = condition
        timeout = item.get("timeout")
        step["timeout"] = None if timeout is None else \
            number(item, "timeout", field, problems, None, 1, 30 * 86400)
        ctx.recorded_metrics = recorded
        ctx.has_bundle_step = any(s["kind"] == "bundle" for s in out)
        step.update(impl.normalize(item, field, ctx, problems))
        recorded |= impl.metrics_recorded(step, ctx)
        out.append(step)
    return out

