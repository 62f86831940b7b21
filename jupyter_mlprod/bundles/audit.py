"""Audit events: who did what, when, to which object, on which node, with the bundle ids.
Append-only: there is no update or delete anywhere in the code."""
from __future__ import annotations

import getpass
import os

from ..clock import isoformat
from ..store.audit import AuditRepository

ACTIONS = ("bundle.create", "bundle.import", "bundle.export", "bundle.register", "bundle.deploy",
           "deployment.activate", "deployment.rollback")


def current_user() -> str:
    for name in ("MLPROD_USER", "JUPYTERHUB_USER"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


class AuditLog:
    def __init__(self, engine, owner: str, clock):
        self.repo = AuditRepository(engine, owner)
        self.clock = clock

    def record(self, action: str, *, actor: str | None = None, object_type: str = "bundle",
               object_id: str | None = None, node: str | None = None,
               bundle_id: str | None = None, previous_bundle_id: str | None = None,
               outcome: str = "ok", details: dict | None = None) -> int:
        return self.repo.append(self.clock.now(), {
            "action": action, "actor": actor or current_user(), "object_type": object_type,
            "object_id": object_id, "node": node, "bundle_id": bundle_id,
            "previous_bundle_id": previous_bundle_id, "outcome": outcome,
            "details": details or {}})

    def list(self, limit: int = 100, offset: int = 0, *, action: str | None = None,
             bundle_id: str | None = None) -> dict:
        rows, total = self.repo.list(limit, offset, action=action, bundle_id=bundle_id)
        return {"events": [event_view(r) for r in rows], "total": total}


def event_view(row: dict) -> dict:
    return {"id": row["id"], "at": isoformat(row["at"]), "actor": row["actor"],
            "action": row["action"], "object_type": row["object_type"],
            "object_id": row["object_id"], "node": row["node"], "bundle_id": row["bundle_id"],
            "previous_bundle_id": row["previous_bundle_id"], "outcome": row["outcome"],
            "host": row["host"], "details": row["details"] or {}}
