"""What a reporter type provides, and the one rule deciding whether a report is sent."""
from __future__ import annotations

import re
from typing import Mapping

WHEN = ("always", "failure", "success", "change", "warning", "check_failed")
FAILURES = ("failed", "error")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ReportError(Exception):
    """Sending failed; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool = True):
        super().__init__(message)
        self.message = message
        self.retry = retry


class ReporterType:
    kind = ""
    keys: tuple = ("type", "when")

    def normalize(self, raw: dict, field: str, ctx) -> dict:
        return {"type": self.kind}

    def describe(self, spec: dict) -> str:
        return self.kind

    def send(self, spec: dict, report: dict, environ: Mapping[str, str], timeout: float) -> None:
        raise NotImplementedError

    def public(self, spec: dict) -> dict:
        return dict(spec)


def should_report(when: str, outcome: str, previous: str | None,
                  checks: str | None = None) -> bool:
    """always | failure (failed, or the trigger itself erred) | success | change (the outcome
    differs from the scenario's previous one; the first outcome counts as a change) |
    warning (a check of the run gave WARNING or ERROR) | check_failed (a check gave ERROR).
    `checks` is the worst check outcome of the run (None: no check was judged)."""
    if when == "warning":
        return checks in ("WARNING", "ERROR")
    if when == "check_failed":
        return checks == "ERROR"
    if when == "always":
        return True
    if when == "failure":
        return outcome in FAILURES
    if when == "success":
        return outcome == "succeeded"
    if when == "change":
        return outcome != previous
    return False


def env_name_problem(value) -> str | None:
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        return "must be the name of an environment variable, e.g. SLACK_WEBHOOK_URL"
    return None
