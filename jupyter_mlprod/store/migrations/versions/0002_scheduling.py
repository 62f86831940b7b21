"""scenarios, triggers, fires and reporters (issue: scenarios)

Revision ID: 0002_scheduling
Revises: 0001_runs
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_scheduling"
down_revision = "0001_runs"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mlprod_scenarios",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("project", "name", name="uq_mlprod_scenarios_project_name"),
    )
    op.create_table(
        "mlprod_scenario_triggers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scenario_id", sa.Integer,
                  sa.ForeignKey("mlprod_scenarios.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("next_at", _TS, nullable=True),
        sa.Column("anchor_at", _TS, nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("state", sa.JSON, nullable=True),
        sa.Column("last_fired_at", _TS, nullable=True),
        sa.Column("last_checked_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("error_since", _TS, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("scenario_id", "key", name="uq_mlprod_scenario_triggers_key"),
    )
    op.create_index("ix_mlprod_scenario_triggers_next_at", "mlprod_scenario_triggers", ["next_at"])
    op.create_index("ix_mlprod_scenario_triggers_scenario_id", "mlprod_scenario_triggers",
                    ["scenario_id"])
    op.create_table(
        "mlprod_scenario_fires",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("scenario_id", sa.Integer,
                  sa.ForeignKey("mlprod_scenarios.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trigger_position", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("due_key", sa.String(160), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.UniqueConstraint("scenario_id", "due_key", name="uq_mlprod_scenario_fires_due"),
    )
    op.create_index("ix_mlprod_scenario_fires_project_status", "mlprod_scenario_fires",
                    ["project", "status"])
    op.create_index("ix_mlprod_scenario_fires_scenario_due", "mlprod_scenario_fires",
                    ["scenario_id", "due_at"])
    op.create_index("ix_mlprod_scenario_fires_due_at", "mlprod_scenario_fires", ["due_at"])
    op.create_index("ix_mlprod_scenario_fires_run_id", "mlprod_scenario_fires", ["run_id"])
    op.create_table(
        "mlprod_report_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("fire_id", sa.Integer,
                  sa.ForeignKey("mlprod_scenario_fires.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scenario_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reporter", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.UniqueConstraint("fire_id", "position", name="uq_mlprod_report_deliveries_fire_pos"),
    )
    op.create_index("ix_mlprod_report_deliveries_due", "mlprod_report_deliveries",
                    ["project", "status", "next_attempt_at"])
    op.add_column("mlprod_runs", sa.Column("scenario_id", sa.Integer, nullable=True))
    op.create_index("ix_mlprod_runs_scenario_id", "mlprod_runs", ["scenario_id"])


def downgrade() -> None:
    op.drop_index("ix_mlprod_runs_scenario_id", table_name="mlprod_runs")
    with op.batch_alter_table("mlprod_runs") as batch:
        batch.drop_column("scenario_id")
    op.drop_table("mlprod_report_deliveries")
    op.drop_table("mlprod_scenario_fires")
    op.drop_table("mlprod_scenario_triggers")
    op.drop_table("mlprod_scenarios")
