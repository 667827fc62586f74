"""children list order index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:42:09.657672

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index('ix_children_name_pinyin', ['name_pinyin', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index('ix_children_name_pinyin')

