"""The audit log: append-only. This module has inserts and reads, and nothing else."""
from __future__ import annotations

import socket

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..clock import as_utc
from .schema_bundles import audit_events

_FIELDS = ("actor", "action", "object_type", "object_id", "node", "bundle_id",
           "previous_bundle_id", "outcome", "details")


def insert_event(conn: Connection, owner: str, at, event: dict) -> int:
    """Append one event inside the caller's transaction (so an activation and its audit event
    commit together or not at all)."""
    unknown = set(event) - set(_FIELDS)
    if unknown:
        raise ValueError(f"unknown audit fields {sorted(unknown)}")
    row = {"owner": owner, "at": at, "host": socket.gethostname(), "outcome": "ok",
           "details": {}, **event}
    return conn.execute(audit_events.insert().values(**row).returning(audit_events.c.id)).scalar_one()


class AuditRepository:
    def __init__(self, engine: Engine, owner: str):
        self.engine = engine
        self.owner = owner

    def append(self, at, event: dict) -> int:
        with self.engine.begin() as conn:
            return insert_event(conn, self.owner, at, event)

    def list(self, limit: int = 100, offset: int = 0, *, action: str | None = None,
             bundle_id: str | None = None) -> tuple[list[dict], int]:
        where = [audit_events.c.owner == self.owner]
        if action:
            where.append(audit_events.c.action == action)
        if bundle_id:
            where.append(sa.or_(audit_events.c.bundle_id == bundle_id,
                                audit_events.c.previous_bundle_id == bundle_id))
        with self.engine.connect() as conn:
            rows = conn.execute(audit_events.select().where(*where)
                                .order_by(audit_events.c.id.desc()).limit(limit).offset(offset)
                                ).mappings().all()
            total = conn.execute(sa.select(sa.func.count()).select_from(audit_events)
                                 .where(*where)).scalar_one()
        return [dict(r, at=as_utc(r["at"])) for r in rows], total
