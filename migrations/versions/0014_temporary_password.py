"""users.password_is_temporary: a password set by an administrator or the volunteers' roster opens
only the page where she sets her own

Revision ID: 0014_temporary_password
Revises: 0013_form_once
Create Date: 2026-11-29 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_temporary_password"
down_revision = "0013_form_once"
branch_labels = None
depends_on = None


def upgrade():
    # Existing accounts keep working as they are: only passwords set from now on are temporary.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_is_temporary", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_is_temporary")
