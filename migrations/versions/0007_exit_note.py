"""children.exit_note: what the exit form's 说明 says, kept with the exit

Revision ID: 0007
Revises: 0004 (0005 and 0006 come from parallel branches; the chain is fixed at merge)
Create Date: 2026-11-29 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exit_note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_column("exit_note")
