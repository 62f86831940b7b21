"""scenario steps: step outcomes per scenario run, approvals (issue 11)

Revision ID: 0007_scenario_runs
Revises: 0006_metrics
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_scenario_runs"
down_revision = "0006_metrics"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mlprod_scenario_step_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fire_id", sa.Integer,
                  sa.ForeignKey("mlprod_scenario_fires.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("values", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.UniqueConstraint("fire_id", "position", name="uq_mlprod_scenario_step_runs_pos"),
    )
    op.create_table(
        "mlprod_scenario_approvals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fire_id", sa.Integer,
                  sa.ForeignKey("mlprod_scenario_fires.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("decided_at", _TS, nullable=False),
        sa.UniqueConstraint("fire_id", "position", name="uq_mlprod_scenario_approvals_pos"),
    )


def downgrade() -> None:
    op.drop_table("mlprod_scenario_approvals")
    op.drop_table("mlprod_scenario_step_runs")
