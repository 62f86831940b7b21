"""The append-only audit log (created by 0003_bundles, hash-chained by 0005_audit_chain) and
its chain head: one row per owner with the last event's seq and hash. Writers lock the head
row, so concurrent writers (threads, processes, nodes sharing PostgreSQL) form one chain."""
from __future__ import annotations

import sqlalchemy as sa

from .schema import metadata

audit_events = sa.Table(
    "mlprod_audit_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("object_type", sa.String(40), nullable=False),
    sa.Column("object_id", sa.String(200), nullable=True),
    sa.Column("node", sa.String(200), nullable=True),
    sa.Column("bundle_id", sa.String(64), nullable=True),
    sa.Column("previous_bundle_id", sa.String(64), nullable=True),
    sa.Column("outcome", sa.String(20), nullable=False),  # ok | refused | failed
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("host", sa.String(200), nullable=True),
    sa.Column("seq", sa.Integer, nullable=True),          # position in the owner's chain
    sa.Column("reason", sa.Text, nullable=True),          # why it was refused
    sa.Column("before_summary", sa.JSON, nullable=True),  # the object before / after, no secrets
    sa.Column("after_summary", sa.JSON, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=True),
    sa.Column("hash", sa.String(64), nullable=True),
    sa.UniqueConstraint("owner", "seq", name="uq_mlprod_audit_events_owner_seq"),
)

audit_chain = sa.Table(
    "mlprod_audit_chain", metadata,
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
