"""Drift tables: reference profiles of endpoint versions, the metrics recorded for endpoint
versions (drift per feature, live performance), and the labels sent as feedback. Changing them
means a new Alembic revision (0008_drift created them)."""
from __future__ import annotations

import sqlalchemy as sa

from .schema import metadata

drift_profiles = sa.Table(
    "mlprod_drift_profiles", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),   # dataset | requests
    sa.Column("profile", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("endpoint_id", "version", name="uq_mlprod_drift_profiles_version"),
)

endpoint_metrics = sa.Table(
    "mlprod_endpoint_metrics", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("name", sa.String(400), nullable=False),   # drift:<feature>:psi, perf:accuracy...
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_mlprod_endpoint_metrics_version_at", endpoint_metrics.c.endpoint_id,
         endpoint_metrics.c.version, endpoint_metrics.c.at)

feedback = sa.Table(
    "mlprod_feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("prediction_id", sa.String(64), nullable=False),
    sa.Column("label", sa.Float, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_mlprod_feedback_version", feedback.c.endpoint_id, feedback.c.version)
