"""What a trigger type provides. Three families:

- timed (cron, interval): `next_due(spec, after, anchor)` gives due times; the scheduler persists
  the next one and turns each into a fire exactly once;
- polled (files, sql): `fingerprint(spec, env)` is computed every `poll_seconds(spec)`; a change
  of fingerprint is a fire;
- events (run_finished, manual): fired by something happening in the scheduler itself.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Mapping


class TriggerError(Exception):
    """A trigger could not be evaluated (unreachable database, failing query...)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field   # the spec key at fault, e.g. "url" or "query"


@dataclasses.dataclass
class PollEnv:
    root: Path
    hasher: object                # jupyter_mlprod.hashing.FileHasher
    environ: Mapping[str, str] = dataclasses.field(default_factory=lambda: os.environ)
    project: object = None        # the Project, for triggers that read its store (drift)


class TriggerType:
    kind = ""
    keys: tuple = ("type",)
    timed = False
    polled = False

    def normalize(self, raw: dict, field: str, ctx) -> dict | None:
        return {"type": self.kind}

    def describe(self, spec: dict) -> str:
        return self.kind

    def check(self, spec: dict, field: str, ctx) -> tuple[str, dict | None] | None:
        """Deep validation at save time (may do I/O): adds to ctx.problems; polled triggers
        return their current (fingerprint, state), the baseline changes are measured from."""
        return None

    # timed
    def next_due(self, spec: dict, after: dt.datetime, anchor: dt.datetime | None) -> dt.datetime:
        raise NotImplementedError

    # polled
    def poll_seconds(self, spec: dict) -> float:
        raise NotImplementedError

    def fingerprint(self, spec: dict, env: PollEnv) -> tuple[str, dict | None]:
        raise NotImplementedError

    def changes(self, old_state: dict | None, new_state: dict | None) -> dict:
        """What changed between two polls, for the fire's details."""
        return {}

    def public(self, spec: dict) -> dict:
        """The spec as shown to users (secrets masked)."""
        return dict(spec)


def trigger_key(spec: dict) -> str:
    """Identity of a trigger's content: unchanged triggers keep their state across edits."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:24]


def seconds_text(seconds: float) -> str:
    seconds = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts) or "0 s"
