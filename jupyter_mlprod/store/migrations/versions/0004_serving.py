"""endpoints, versions, keys and prediction logs (issue: serving)

Revision ID: 0004_serving
Revises: 0003_bundles
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_serving"
down_revision = "0003_bundles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlprod_endpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("traffic", sa.JSON, nullable=True),
        sa.Column("traffic_id", sa.Integer, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project", "name", name="uq_mlprod_endpoints_project_name"),
    )
    op.create_index("ix_mlprod_endpoints_project", "mlprod_endpoints", ["project"])
    op.create_table(
        "mlprod_endpoint_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.Integer,
                  sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("notebook", sa.String(1000), nullable=False),
        sa.Column("bundle_id", sa.String(128), nullable=True),
        sa.Column("workdir", sa.String(2000), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("endpoint_id", "version", name="uq_mlprod_endpoint_versions_version"),
    )
    op.create_index("ix_mlprod_endpoint_versions_endpoint_id", "mlprod_endpoint_versions",
                    ["endpoint_id"])
    op.create_table(
        "mlprod_endpoint_traffic",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.Integer,
                  sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"), nullable=False),
        sa.Column("traffic", sa.JSON, nullable=False),
        sa.Column("previous_id", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mlprod_endpoint_traffic_endpoint_id", "mlprod_endpoint_traffic",
                    ["endpoint_id"])
    op.create_table(
        "mlprod_endpoint_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.Integer,
                  sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_mlprod_endpoint_keys_endpoint_id", "mlprod_endpoint_keys", ["endpoint_id"])
    op.create_table(
        "mlprod_predictions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.Integer,
                  sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("input", sa.JSON, nullable=True),
        sa.Column("output", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("matches_primary", sa.Boolean, nullable=True),
    )
    op.create_index("ix_mlprod_predictions_endpoint_id_id", "mlprod_predictions",
                    ["endpoint_id", "id"])
    op.create_table(
        "mlprod_serving_servers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("server_id", sa.String(40), nullable=False, unique=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("hostname", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("workers", sa.Integer, nullable=False),
        sa.Column("endpoints", sa.JSON, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mlprod_serving_servers_project", "mlprod_serving_servers", ["project"])


def downgrade() -> None:
    op.drop_table("mlprod_serving_servers")
    op.drop_table("mlprod_predictions")
    op.drop_table("mlprod_endpoint_keys")
    op.drop_table("mlprod_endpoint_traffic")
    op.drop_table("mlprod_endpoint_versions")
    op.drop_table("mlprod_endpoints")
