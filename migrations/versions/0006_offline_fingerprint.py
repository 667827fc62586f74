"""offline records: a fingerprint of the body stored per client_uuid

Revision ID: 0006
Revises: 0004 (0005 is added on another branch; the chain is fixed at merge)
Create Date: 2026-12-01

A replay of a client_uuid is answered with the stored record only when its body is the same; the
sha256 of the validated values tells. Rows stored before have NULL: only their child is compared.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("visits", "parent_contacts")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("fingerprint")
