"""Drift of an endpoint version: every `poll` seconds, compute the drift report over `window`,
record it as metrics of the version, judge `checks` on it; the scenario fires when a check
turns ERROR (a new onset), not again while it stays failing, nor when it recovers.

    {"type": "drift", "endpoint": "score", "window": "1000", "poll": 300,
     "checks": [{"metric": "drift:income:psi", "warn_above": 0.1, "max": 0.25}]}
"""
from __future__ import annotations

from ...errors import MlprodError
from .base import PollEnv, TriggerError, TriggerType, trigger_key


class DriftTrigger(TriggerType):
    kind = "drift"
    keys = ("type", "endpoint", "version", "window", "checks", "poll")
    polled = True

    def normalize(self, raw, field, ctx):
        from ...monitoring.checks import parse_checks
        from ...monitoring.drift_service import parse_window
        from ..scenarios import number

        problems = ctx.problems
        endpoint = raw.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            problems.error(f"{field}.endpoint", "endpoint must name an endpoint")
        version = raw.get("version")
        if version is not None and not isinstance(version, str):
            problems.error(f"{field}.version", "version must be a version name or null "
                           "(the primary version)")
        window = str(raw.get("window", "1000"))
        try:
            parse_window(window)
        except MlprodError as exc:
            problems.error(f"{field}.window", exc.message)
        checks = ()
        try:
            checks = parse_checks(raw.get("checks"), f"{field}.checks")
        except MlprodError as exc:
            problems.error(exc.field or f"{field}.checks", exc.message)
        if not checks and not problems.has_errors_under(f"{field}.checks"):
            problems.error(f"{field}.checks", 'give at least one check, e.g. {"metric": '
                           '"drift:dataset:drift", "max": 0}')
        poll = number(raw, "poll", field, problems, 300, 1, 86400, integer=False)
        return {"type": "drift", "endpoint": endpoint, "version": version, "window": window,
                "checks": list(checks), "poll": poll}

    def describe(self, spec):
        return (f"when drift checks on endpoint {spec['endpoint']} fail (window {spec['window']}, "
                f"checked every {spec['poll']:g} s)")

    def poll_seconds(self, spec):
        return float(spec["poll"])

    def fingerprint(self, spec, env: PollEnv):
        project = env.project
        if project is None:
            raise TriggerError("drift triggers need the project's store", "endpoint")
        alarm = f"alarm:{trigger_key(spec)[:12]}"
        try:
            result = project.drift.evaluate(spec["endpoint"], version=spec["version"],
                                            window=spec["window"], checks=spec["checks"],
                                            alarm=alarm)
            onset = project.drift.alarm_onset(spec["endpoint"], result["report"]["version"],
                                              alarm)
        except MlprodError as exc:
            raise TriggerError(exc.message, exc.field or "endpoint") from None
        failed = [c["message"] for c in result["checks"] if c["outcome"] == "ERROR"]
        return onset, {"outcome": result["outcome"], "failed": failed[:20],
                       "version": result["report"]["version"]}

    def changes(self, old_state, new_state):
        return {"checks": (new_state or {}).get("failed", []),
                "version": (new_state or {}).get("version")}
