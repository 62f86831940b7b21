"""Batch drift: a pipeline step declares a drift check of its input table against the
reference profile of a deployed endpoint version; the check runs before the step's kernel
starts, and an ERROR check fails the step without running it.

    "mlprod": {"step": "batch_score", "inputs": ["data/applications.csv", ...],
               "drift": {"endpoint": "score", "table": "data/applications.csv",
                         "checks": [{"metric": "drift:dataset:share", "max": 0.5}]}}

`table` defaults to the step's first input; `version` to the endpoint's primary version;
`checks` to `[{"metric": "drift:dataset:drift", "max": 0}]` (no dataset drift)."""
from __future__ import annotations

from ..errors import InvalidInput
from .checks import evaluate, parse_checks

KEYS = ("endpoint", "table", "version", "checks")
DEFAULT_CHECKS = ({"metric": "drift:dataset:drift", "max": 0},)


def parse_step_drift(raw, inputs: tuple[str, ...], field: str) -> dict:
    if not isinstance(raw, dict):
        raise InvalidInput(f'{field} must be an object like {{"endpoint": "score"}}', field=field)
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise InvalidInput(f"{field}.{unknown[0]}: unknown key (known: {', '.join(KEYS)})",
                           field=f"{field}.{unknown[0]}")
    endpoint = raw.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidInput(f"{field}.endpoint must name the endpoint whose reference the table "
                           "is compared with", field=f"{field}.endpoint")
    table = raw.get("table", inputs[0] if inputs else None)
    if not isinstance(table, str) or not table:
        raise InvalidInput(f"{field}.table must name the table to check (or declare an input)",
                           field=f"{field}.table")
    version = raw.get("version")
    if version is not None and not isinstance(version, str):
        raise InvalidInput(f"{field}.version must be a version name", field=f"{field}.version")
    checks = parse_checks(raw.get("checks"), f"{field}.checks") or DEFAULT_CHECKS
    return {"endpoint": endpoint, "table": table, "version": version,
            "checks": [dict(c) for c in checks]}


def judge_table(drift_service, root, spec: dict) -> tuple[dict, list[dict]]:
    """The table's drift report against the endpoint's reference, and its check results."""
    from ..paths import resolve_inside
    from .drift_service import report_metrics

    path = resolve_inside(root, spec["table"], "drift.table")
    report = drift_service.check_table(spec["endpoint"], path, version=spec["version"])
    values = report_metrics(dict(report, prediction=None, performance=None))
    results = [evaluate(i, c, values.get(c["metric"]),
                        missing_reason=report["message"] or "was not computed",
                        previous=None) for i, c in enumerate(spec["checks"])]
    return report, [r.to_dict() for r in results]


def refusal(drift_service, root, step) -> str | None:
    """Why the step must not run (an ERROR drift check), or None."""
    _, results = judge_table(drift_service, root, step.drift)
    errors = [r for r in results if r["outcome"] == "ERROR"]
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return (f"drift check of {step.drift['table']} against endpoint {step.drift['endpoint']} "
            f"failed: {errors[0]['message']}{more}")
