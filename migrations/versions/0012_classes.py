"""classes (session 7): a pupil's class (children.class_name) and a class teacher's class
(users.class_grade, users.class_name)

Revision ID: 0012_classes
Revises: 0011_care
Create Date: 2026-11-29 23:10:00

Every column is optional: pupils and teachers without a class keep the whole school, as before.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012_classes'
down_revision = '0011_care'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_name', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_children_school_class', ['school_id', 'grade', 'class_name'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_grade', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('class_name', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('class_name')
        batch_op.drop_column('class_grade')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index('ix_children_school_class')
        batch_op.drop_column('class_name')
