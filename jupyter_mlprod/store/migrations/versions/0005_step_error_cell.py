"""step runs: the failing cell's execution count and first line (issue 9: a newcomer's first hour)

Revision ID: 0005_step_error_cell
Revises: 0004_serving
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_step_error_cell"
down_revision = "0004_serving"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mlprod_step_runs") as batch:
        batch.add_column(sa.Column("error_execution_count", sa.Integer, nullable=True))
        batch.add_column(sa.Column("error_cell_source", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mlprod_step_runs") as batch:
        batch.drop_column("error_cell_source")
        batch.drop_column("error_execution_count")
