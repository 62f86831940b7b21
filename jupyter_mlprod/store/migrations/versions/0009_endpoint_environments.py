"""the environment an endpoint version is served from (issue 14: a bundle's own environment)

Revision ID: 0009_endpoint_environments
Revises: 0008_drift
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_endpoint_environments"
down_revision = "0008_drift"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mlprod_endpoint_versions") as batch:
        batch.add_column(sa.Column("environment", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mlprod_endpoint_versions") as batch:
        batch.drop_column("environment")
