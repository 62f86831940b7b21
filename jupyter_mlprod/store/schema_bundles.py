"""Tables of the bundles issue: bundles and their files, deployments, the active pointer of a
node and registered nodes (the audit log moved to schema_audit). Created by migration 0003_bundles."""
from __future__ import annotations

import sqlalchemy as sa

from .schema import metadata

# `owner` is the name of the project (design node or production node) whose store this is;
# several projects may share one PostgreSQL store.
bundles = sa.Table(
    "mlprod_bundles", metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("bundle_id", sa.String(64), nullable=False),
    sa.Column("project", sa.String(200), nullable=False),  # the bundled project's name
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("author", sa.String(200), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("origin", sa.String(20), nullable=False),  # created | imported | received
    sa.Column("file_count", sa.Integer, nullable=False),
    sa.Column("total_size", sa.BigInteger, nullable=False),
    sa.Column("manifest", sa.Text, nullable=False),  # canonical JSON; sha256 == bundle_id
    sa.UniqueConstraint("owner", "bundle_id", name="uq_mlprod_bundles_owner_id"),
)

bundle_files = sa.Table(
    "mlprod_bundle_files", metadata,
    sa.Column("bundle_pk", sa.Integer, sa.ForeignKey("mlprod_bundles.pk", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("path", sa.String(1000), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
)

deployments = sa.Table(
    "mlprod_deployments", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("bundle_id", sa.String(64), nullable=False),
    sa.Column("previous_bundle_id", sa.String(64), nullable=True),
    sa.Column("action", sa.String(20), nullable=False),  # deploy | rollback
    sa.Column("status", sa.String(20), nullable=False),  # active | superseded
    sa.Column("tree", sa.String(1000), nullable=False),  # relative to the node's root
    sa.Column("actor", sa.String(200), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("environment", sa.JSON, nullable=True),  # the environment check's report
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
)

# One row per node: the pointer that makes activation atomic (updated in the same
# transaction that inserts the deployment).
node_state = sa.Table(
    "mlprod_node_state", metadata,
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("active_deployment_id", sa.Integer, sa.ForeignKey("mlprod_deployments.id"),
              nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

nodes = sa.Table(
    "mlprod_nodes", metadata,
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("token_env", sa.String(200), nullable=True),  # the token itself is never stored
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("owner", "name", name="pk_mlprod_nodes"),
)

from .schema_audit import audit_events  # noqa: E402,F401 - moved; kept importable here
