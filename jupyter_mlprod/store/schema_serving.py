"""Serving tables: endpoints, their versions, traffic history, API keys, prediction logs and
running servers. Changing them means a new Alembic revision (0004_serving created them)."""
from __future__ import annotations

import sqlalchemy as sa

from .schema import metadata

endpoints = sa.Table(
    "mlprod_endpoints", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False, index=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("traffic", sa.JSON, nullable=True),
    sa.Column("traffic_id", sa.Integer, nullable=True),
    sa.Column("revision", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("project", "name", name="uq_mlprod_endpoints_project_name"),
)

endpoint_versions = sa.Table(
    "mlprod_endpoint_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),  # notebook | bundle
    sa.Column("notebook", sa.String(1000), nullable=False),
    sa.Column("bundle_id", sa.String(128), nullable=True),
    sa.Column("workdir", sa.String(2000), nullable=True),  # None = the project root
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),  # the notebook's cells, split (no outputs)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, default="new"),  # new | ready | failed
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
    # a bundle deployed with its own environment: {"digest", "venv", "python"}; None = the
    # serving process's own Python
    sa.Column("environment", sa.JSON, nullable=True),
    sa.UniqueConstraint("endpoint_id", "version", name="uq_mlprod_endpoint_versions_version"),
)

endpoint_traffic = sa.Table(
    "mlprod_endpoint_traffic", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("traffic", sa.JSON, nullable=False),
    sa.Column("previous_id", sa.Integer, nullable=True),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

endpoint_keys = sa.Table(
    "mlprod_endpoint_keys", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("label", sa.String(200), nullable=False, default=""),
    sa.Column("hash", sa.String(64), nullable=False),  # sha256 of the whole key; never the key
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

predictions = sa.Table(
    "mlprod_predictions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("mlprod_endpoints.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("shadow", sa.Boolean, nullable=False, default=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("input", sa.JSON, nullable=True),  # only when the endpoint opts in, redacted
    sa.Column("output", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("matches_primary", sa.Boolean, nullable=True),  # shadow entries only
)

sa.Index("ix_mlprod_predictions_endpoint_id_id", predictions.c.endpoint_id, predictions.c.id)

serving_servers = sa.Table(
    "mlprod_serving_servers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False, index=True),
    sa.Column("server_id", sa.String(40), nullable=False, unique=True),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("hostname", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("workers", sa.Integer, nullable=False),
    sa.Column("endpoints", sa.JSON, nullable=True),  # None = every endpoint of the project
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
)
