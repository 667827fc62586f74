"""background jobs on huey: the named task, its JSON arguments, attempts and worker

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("arguments", sa.Text(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("task_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("worker", sa.String(length=120), nullable=True))
    # Jobs of the old in-process runner cannot be resumed by a consumer.
    op.execute("UPDATE jobs SET status = 'failed', message = '任务中断（系统升级），请重新开始。' "
               "WHERE status IN ('queued', 'running')")
    op.execute("UPDATE import_batches SET status = 'previewed' WHERE status = 'importing'")


def downgrade():
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("attempts")
        batch_op.drop_column("task_id")
        batch_op.drop_column("arguments")
        batch_op.drop_column("task")
