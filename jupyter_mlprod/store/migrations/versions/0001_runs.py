"""runs and step runs

Revision ID: 0001_runs
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_runs"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlprod_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("selection", sa.JSON, nullable=False),
        sa.Column("force", sa.Boolean, nullable=False),
        sa.Column("resumed_from", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_mlprod_runs_project", "mlprod_runs", ["project"])
    op.create_table(
        "mlprod_step_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("mlprod_runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cell_index", sa.Integer, nullable=True),
        sa.Column("cell_count", sa.Integer, nullable=True),
        sa.Column("error_cell_index", sa.Integer, nullable=True),
        sa.Column("error_ename", sa.String(200), nullable=True),
        sa.Column("error_evalue", sa.Text, nullable=True),
        sa.Column("output_path", sa.String(1000), nullable=True),
        sa.Column("log_path", sa.String(1000), nullable=True),
        sa.UniqueConstraint("run_id", "step", name="uq_mlprod_step_runs_run_step"),
    )
    op.create_index("ix_mlprod_step_runs_run_id", "mlprod_step_runs", ["run_id"])
    op.create_index("ix_mlprod_step_runs_step_status", "mlprod_step_runs", ["step", "status"])


def downgrade() -> None:
    op.drop_table("mlprod_step_runs")
    op.drop_table("mlprod_runs")
