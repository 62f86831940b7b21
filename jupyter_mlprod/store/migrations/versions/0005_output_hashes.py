"""a step run's outputs digest at success (issue: crashes lose nothing)

Revision ID: 0005_output_hashes
Revises: 0005_step_error_cell
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_output_hashes"
down_revision = "0005_step_error_cell"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mlprod_step_runs", sa.Column("outputs_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mlprod_step_runs") as batch:
        batch.drop_column("outputs_digest")
