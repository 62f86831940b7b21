"""metrics per step run and check results (issue: metrics and checks)

Revision ID: 0006_metrics
Revises: 0005_audit_chain
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_metrics"
down_revision = "0005_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlprod_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("mlprod_runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mlprod_metrics_run_id", "mlprod_metrics", ["run_id"])
    op.create_index("ix_mlprod_metrics_step_name_run", "mlprod_metrics",
                    ["step", "name", "run_id"])
    op.create_table(
        "mlprod_check_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("mlprod_runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(400), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mlprod_check_results_run_id", "mlprod_check_results", ["run_id"])


def downgrade() -> None:
    op.drop_table("mlprod_check_results")
    op.drop_table("mlprod_metrics")
