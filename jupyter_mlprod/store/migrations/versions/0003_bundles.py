"""bundles, blobs, deployments, nodes and audit events (issue: bundles)

Revision ID: 0003_bundles
Revises: 0002_scheduling
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003_bundles"
down_revision = "0002_scheduling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
