"""endpoints, versions, keys and prediction logs (issue: serving)

Revision ID: 0004_serving
Revises: 0003_bundles
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_serving"
down_revision = "0003_bundles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
