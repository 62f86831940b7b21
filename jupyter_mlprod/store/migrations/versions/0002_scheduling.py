"""scenarios, triggers, fires and reporters (issue: scenarios)

Revision ID: 0002_scheduling
Revises: 0001_runs
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002_scheduling"
down_revision = "0001_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
