"""Scenario steps (issue 11): a scenario's ordered actions (run, check, compare, bundle,
approve, deploy, endpoint, notify), each a registered kind like papermill engines. `spec`
validates them at save time; `sequencer` carries a scenario run out, step by step, durably."""
from __future__ import annotations

from .registry import get_kind, kinds, register

__all__ = ["get_kind", "kinds", "register"]
