"""audit events for every action, hash-chained (issue: trust / audit trail)

Adds seq, reason, before/after summaries, prev_hash and hash to the audit log, and the chain
head table. Events written before this revision are chained here, in id order per owner.

Revision ID: 0005_audit_chain
Revises: 0005_output_hashes
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_audit_chain"
down_revision = "0005_output_hashes"
branch_labels = None
depends_on = None

_NEW = (("seq", sa.Integer), ("reason", sa.Text), ("before_summary", sa.JSON),
        ("after_summary", sa.JSON), ("prev_hash", sa.String(64)), ("hash", sa.String(64)))


def upgrade() -> None:
    for name, type_ in _NEW:
        op.add_column("mlprod_audit_events", sa.Column(name, type_, nullable=True))
    op.create_table(
        "mlprod_audit_chain",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    _chain_existing_events()
    op.create_index("uq_mlprod_audit_events_owner_seq", "mlprod_audit_events", ["owner", "seq"],
                    unique=True)


def _chain_existing_events() -> None:
    from jupyter_mlprod.audit.chain import GENESIS, event_hash

    conn = op.get_bind()
    typed = {"at": sa.DateTime(timezone=True), "details": sa.JSON(), "before_summary": sa.JSON(),
             "after_summary": sa.JSON()}  # read back as the store does, so the hashes match
    events = sa.table("mlprod_audit_events", *(sa.column(c, typed.get(c)) for c in (
        "id", "owner", "at", "actor", "action", "object_type", "object_id", "node", "bundle_id",
        "previous_bundle_id", "outcome", "details", "host", "seq", "reason", "before_summary",
        "after_summary", "prev_hash", "hash")))
    heads: dict[str, tuple[int, str]] = {}
    for row in conn.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        seq, prev = heads.get(row["owner"], (0, GENESIS))
        values = dict(row, seq=seq + 1, prev_hash=prev)
        values["hash"] = event_hash(values)
        conn.execute(events.update().where(events.c.id == row["id"])
                     .values(seq=values["seq"], prev_hash=prev, hash=values["hash"]))
        heads[row["owner"]] = (values["seq"], values["hash"])
    if heads:
        chain = sa.table("mlprod_audit_chain", sa.column("owner"), sa.column("seq"),
                         sa.column("hash"))
        conn.execute(chain.insert(), [{"owner": o, "seq": s, "hash": h}
                                      for o, (s, h) in heads.items()])


def downgrade() -> None:
    op.drop_index("uq_mlprod_audit_events_owner_seq", "mlprod_audit_events")
    op.drop_table("mlprod_audit_chain")
    with op.batch_alter_table("mlprod_audit_events") as batch:
        for name, _ in reversed(_NEW):
            batch.drop_column(name)
