"""Tables. Changing them means a new Alembic revision under migrations/versions/."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

runs = sa.Table(
    "mlprod_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("trigger", sa.String(40), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("selection", sa.JSON, nullable=False),
    sa.Column("force", sa.Boolean, nullable=False, default=False),
    sa.Column("resumed_from", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("scenario_id", sa.Integer, nullable=True, index=True),  # set by scheduling
)

step_runs = sa.Table(
    "mlprod_step_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("mlprod_runs.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("path", sa.String(1000), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, default=0),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=True),
    # sha256 over the outputs' contents when the step succeeded: outputs rewritten since (by
    # a killed run, by hand) make the step run again (migration 0005_output_hashes)
    sa.Column("outputs_digest", sa.String(64), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("cell_index", sa.Integer, nullable=True),
    sa.Column("cell_count", sa.Integer, nullable=True),
    sa.Column("error_cell_index", sa.Integer, nullable=True),
    sa.Column("error_execution_count", sa.Integer, nullable=True),   # 0005
    sa.Column("error_cell_source", sa.Text, nullable=True),          # 0005
    sa.Column("error_ename", sa.String(200), nullable=True),
    sa.Column("error_evalue", sa.Text, nullable=True),
    sa.Column("output_path", sa.String(1000), nullable=True),
    sa.Column("log_path", sa.String(1000), nullable=True),
    sa.UniqueConstraint("run_id", "step", name="uq_mlprod_step_runs_run_step"),
)

sa.Index("ix_mlprod_step_runs_step_status", step_runs.c.step, step_runs.c.status)
