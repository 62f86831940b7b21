"""Event triggers: another scenario's run finishing, and manual ("run now")."""
from __future__ import annotations

from .base import TriggerType

ON = {"success": ("succeeded",), "failure": ("failed",), "any": ("succeeded", "failed",
                                                                  "cancelled")}


class RunFinishedTrigger(TriggerType):
    kind = "run_finished"
    keys = ("type", "scenario", "on")

    def normalize(self, raw, field, ctx):
        problems = ctx.problems
        name, on = raw.get("scenario"), raw.get("on", "success")
        if not isinstance(name, str) or not name:
            problems.error(f"{field}.scenario", "scenario must name the scenario whose run "
                           "finishing fires this one")
        elif name not in ctx.names and name != ctx.current_name:
            known = ", ".join(sorted(ctx.names)) or "none yet"
            problems.error(f"{field}.scenario", f"unknown scenario {name!r} (scenarios: {known})",
                           code="unknown_scenario")
        if not isinstance(on, str) or on not in ON:
            problems.error(f"{field}.on", f"on must be one of {', '.join(ON)}, not {on!r}")
        return {"type": "run_finished", "scenario": name, "on": on}

    def describe(self, spec):
        how = {"success": "succeeds", "failure": "fails", "any": "finishes"}.get(spec["on"], "ends")
        return f"when scenario {spec['scenario']} {how}"

    @staticmethod
    def matches(spec: dict, outcome: str) -> bool:
        return outcome in ON.get(spec["on"], ())


class ManualTrigger(TriggerType):
    kind = "manual"

    def describe(self, spec):
        return "manually (run now)"
