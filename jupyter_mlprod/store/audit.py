"""The audit log: append-only and hash-chained. This module has inserts and reads, and nothing
else (no update or delete of an event anywhere in the code)."""
from __future__ import annotations

import socket
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..audit.chain import GENESIS, event_hash
from ..clock import as_utc
from .schema_audit import audit_chain, audit_events

_FIELDS = ("actor", "action", "object_type", "object_id", "node", "bundle_id",
           "previous_bundle_id", "outcome", "details", "reason", "before_summary",
           "after_summary")

_TEXT = {c.name: c.type.length for c in audit_events.c
         if isinstance(c.type, sa.String) and c.type.length and c.name not in ("hash", "prev_hash")}


def _insert_ignore(conn: Connection, table, values: dict):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return conn.execute(insert(table).values(**values).on_conflict_do_nothing())


def insert_event(conn: Connection, owner: str, at, event: dict) -> int:
    """Append one event inside the caller's transaction (so a change and its audit event
    commit together or not at all). The chain head row is written first: on PostgreSQL its row
    lock (FOR UPDATE), on SQLite the database write lock, serialises writers until commit, so
    two writers never take the same seq or previous hash."""
    event = dict(event)
    at = event.pop("at", None) or at
    unknown = set(event) - set(_FIELDS)
    if unknown:
        raise ValueError(f"unknown audit fields {sorted(unknown)}")
    _insert_ignore(conn, audit_chain, {"owner": owner, "seq": 0, "hash": GENESIS})
    head = conn.execute(sa.select(audit_chain.c.seq, audit_chain.c.hash)
                        .where(audit_chain.c.owner == owner).with_for_update()).one()
    row = {**{f: None for f in _FIELDS}, "outcome": "ok", "details": {}, **event,
           "owner": owner, "at": at, "host": socket.gethostname(), "seq": head.seq + 1,
           "prev_hash": head.hash}
    for name, size in _TEXT.items():  # hash exactly what the database will hand back
        if row[name] is not None:
            row[name] = str(row[name])[:size]
    row["hash"] = event_hash(row)
    event_id = conn.execute(audit_events.insert().values(**row)
                            .returning(audit_events.c.id)).scalar_one()
    conn.execute(audit_chain.update().where(audit_chain.c.owner == owner)
                 .values(seq=row["seq"], hash=row["hash"]))
    return event_id


class AuditRepository:
    def __init__(self, engine: Engine, owner: str):
        self.engine = engine
        self.owner = owner

    def append(self, at, event: dict) -> int:
        with self.engine.begin() as conn:
            return insert_event(conn, self.owner, at, event)

    def _where(self, *, action=None, bundle_id=None, object_id=None, object_type=None,
               actor=None, since=None, outcome=None) -> list:
        c = audit_events.c
        where = [c.owner == self.owner]
        if action:
            where.append(c.action.like(action.replace("*", "%")) if "*" in action
                         else c.action == action)
        if bundle_id:
            where.append(sa.or_(c.bundle_id == bundle_id, c.previous_bundle_id == bundle_id))
        if object_id:
            where.append(c.object_id == object_id)
        if object_type:
            where.append(c.object_type == object_type)
        if actor:
            where.append(c.actor == actor)
        if since is not None:
            where.append(c.at >= since)
        if outcome:
            where.append(c.outcome == outcome)
        return where

    def list(self, limit: int = 100, offset: int = 0, **filters) -> tuple[list[dict], int]:
        where = self._where(**filters)
        with self.engine.connect() as conn:
            rows = conn.execute(audit_events.select().where(*where)
                                .order_by(audit_events.c.id.desc()).limit(limit).offset(offset)
                                ).mappings().all()
            total = conn.execute(sa.select(sa.func.count()).select_from(audit_events)
                                 .where(*where)).scalar_one()
        return [dict(r, at=as_utc(r["at"])) for r in rows], total

    def iterate(self, batch: int = 1000, **filters) -> Iterator[dict]:
        """Every matching event, oldest first, in batches (export and verify stream)."""
        where = self._where(**filters)
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(audit_events.select()
                                    .where(*where, audit_events.c.id > last)
                                    .order_by(audit_events.c.id).limit(batch)).mappings().all()
            for r in rows:
                yield dict(r, at=as_utc(r["at"]))
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    def chain_rows(self) -> Iterator[dict]:
        """The owner's chain in seq order (what verify walks)."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(audit_events.select()
                                    .where(audit_events.c.owner == self.owner,
                                           audit_events.c.seq > last)
                                    .order_by(audit_events.c.seq).limit(1000)).mappings().all()
            yield from (dict(r) for r in rows)
            if len(rows) < 1000:
                return
            last = rows[-1]["seq"]

    def head(self) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(audit_chain.select().where(audit_chain.c.owner == self.owner)
                               ).mappings().first()
        return dict(row) if row else None
