"""bundles, blobs, deployments, nodes and audit events (issue: bundles)

Revision ID: 0003_bundles
Revises: 0002_scheduling
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_bundles"
down_revision = "0002_scheduling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlprod_bundles",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("bundle_id", sa.String(64), nullable=False),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(200), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("total_size", sa.BigInteger, nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.UniqueConstraint("owner", "bundle_id", name="uq_mlprod_bundles_owner_id"),
    )
    op.create_table(
        "mlprod_bundle_files",
        sa.Column("bundle_pk", sa.Integer, sa.ForeignKey("mlprod_bundles.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
    )
    op.create_index("ix_mlprod_bundle_files_bundle_pk", "mlprod_bundle_files", ["bundle_pk"])
    op.create_index("ix_mlprod_bundle_files_sha256", "mlprod_bundle_files", ["sha256"])
    op.create_table(
        "mlprod_deployments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("bundle_id", sa.String(64), nullable=False),
        sa.Column("previous_bundle_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tree", sa.String(1000), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("environment", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_mlprod_deployments_owner", "mlprod_deployments", ["owner"])
    op.create_table(
        "mlprod_node_state",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("active_deployment_id", sa.Integer, sa.ForeignKey("mlprod_deployments.id"),
                  nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mlprod_nodes",
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("token_env", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", "name", name="pk_mlprod_nodes"),
    )
    op.create_table(
        "mlprod_audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=True),
        sa.Column("node", sa.String(200), nullable=True),
        sa.Column("bundle_id", sa.String(64), nullable=True),
        sa.Column("previous_bundle_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("host", sa.String(200), nullable=True),
    )
    op.create_index("ix_mlprod_audit_events_owner", "mlprod_audit_events", ["owner"])


def downgrade() -> None:
    op.drop_table("mlprod_audit_events")
    op.drop_table("mlprod_nodes")
    op.drop_table("mlprod_node_state")
    op.drop_table("mlprod_deployments")
    op.drop_table("mlprod_bundle_files")
    op.drop_table("mlprod_bundles")
