"""reference profiles, endpoint-version metrics and feedback labels (issue 12: drift)

Revision ID: 0008_drift
Revises: 0007_scenario_runs
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_drift"
down_revision = "0007_scenario_runs"
branch_labels = None
depends_on = None


def _endpoint_fk():
    return sa.Column("endpoint_id", sa.Integer,
                     sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "mlprod_drift_profiles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _endpoint_fk(),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("endpoint_id", "version", name="uq_mlprod_drift_profiles_version"),
    )
    op.create_table(
        "mlprod_endpoint_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _endpoint_fk(),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mlprod_endpoint_metrics_version_at", "mlprod_endpoint_metrics",
                    ["endpoint_id", "version", "at"])
    op.create_table(
        "mlprod_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _endpoint_fk(),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("prediction_id", sa.String(64), nullable=False),
        sa.Column("label", sa.Float, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mlprod_feedback_version", "mlprod_feedback", ["endpoint_id", "version"])


def downgrade() -> None:
    op.drop_table("mlprod_feedback")
    op.drop_table("mlprod_endpoint_metrics")
    op.drop_table("mlprod_drift_profiles")
