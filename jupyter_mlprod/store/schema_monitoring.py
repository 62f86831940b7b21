"""Monitoring tables: metrics recorded per step run, and the outcomes of its checks.
Changing them means a new Alembic revision (0006_metrics created them)."""
from __future__ import annotations

import sqlalchemy as sa

from .schema import metadata

metrics = sa.Table(
    "mlprod_metrics", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("mlprod_runs.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("name", sa.String(400), nullable=False),
    sa.Column("value", sa.Float, nullable=True),       # None: a probe could not compute it
    sa.Column("source", sa.String(10), nullable=False),  # logged | probe
    sa.Column("note", sa.Text, nullable=True),          # why it is empty, or "capped"
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_mlprod_metrics_step_name_run", metrics.c.step, metrics.c.name, metrics.c.run_id)

check_results = sa.Table(
    "mlprod_check_results", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("mlprod_runs.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("metric", sa.String(400), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("outcome", sa.String(10), nullable=False),  # OK | WARNING | ERROR | EMPTY
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
