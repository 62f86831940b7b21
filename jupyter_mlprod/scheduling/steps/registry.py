"""The registry of scenario step kinds. A kind validates its fields (`normalize`) and carries a
step out (`advance`): each call does a short piece of work and says where the step stands, so
a step that waits (a run, an approval, canary traffic) never holds the scheduler."""
from __future__ import annotations

import dataclasses

_KINDS: dict[str, "StepKind"] = {}


@dataclasses.dataclass
class Outcome:
    status: str                      # running | waiting | succeeded | failed | rejected
    values: dict = dataclasses.field(default_factory=dict)
    error: str | None = None


class StepKind:
    name = ""
    fields: tuple[str, ...] = ()
    default_timeout: int | None = None

    def normalize(self, raw: dict, field: str, ctx, problems) -> dict:
        return {}

    def metrics_recorded(self, step: dict, ctx) -> set[str]:
        """Metric names this step makes known to later steps (check, compare)."""
        return set()

    def advance(self, run, step: dict, values: dict) -> Outcome:
        raise NotImplementedError

    def abandon(self, run, step: dict, values: dict) -> None:
        """The step timed out: undo what it left going."""


def register(kind: StepKind) -> StepKind:
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> StepKind:
    _load()
    return _KINDS[name]


def kinds() -> list[str]:
    _load()
    return list(_KINDS)


def _load() -> None:
    if not _KINDS:
        from . import kinds_judge, kinds_release  # noqa: F401 - they register themselves
