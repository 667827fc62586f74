"""home visits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 11:39:44.391780

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_uuid', sa.String(length=36), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('living_conditions', sa.Text(), nullable=True),
    sa.Column('hazard_water', sa.Boolean(), nullable=False),
    sa.Column('hazard_electric', sa.Boolean(), nullable=False),
    sa.Column('hazard_gas', sa.Boolean(), nullable=False),
    sa.Column('hazard_fire', sa.Boolean(), nullable=False),
    sa.Column('hazard_waters', sa.Boolean(), nullable=False),
    sa.Column('hazard_other', sa.Boolean(), nullable=False),
    sa.Column('hazard_note', sa.String(length=200), nullable=True),
    sa.Column('study', sa.Text(), nullable=True),
    sa.Column('health', sa.Text(), nullable=True),
    sa.Column('mental_state', sa.String(length=10), nullable=True),
    sa.Column('mental_note', sa.Text(), nullable=True),
    sa.Column('guardianship', sa.Text(), nullable=True),
    sa.Column('parents_contacted', sa.Boolean(), nullable=True),
    sa.Column('parents_contacted_on', sa.Date(), nullable=True),
    sa.Column('parents_contact_method', sa.String(length=12), nullable=True),
    sa.Column('internet_concern', sa.Boolean(), nullable=False),
    sa.Column('social_concern', sa.Boolean(), nullable=False),
    sa.Column('concern_note', sa.Text(), nullable=True),
    sa.Column('needs_note', sa.Text(), nullable=True),
    sa.Column('follow_up_needed', sa.Boolean(), nullable=False),
    sa.Column('follow_up_note', sa.Text(), nullable=True),
    sa.Column('next_visit_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_visits_child_id_children')),
    sa.ForeignKeyConstraint(['corrects_id'], ['visits.id'], name=op.f('fk_visits_corrects_id_visits')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_visits_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['visitor_id'], ['users.id'], name=op.f('fk_visits_visitor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('client_uuid', name=op.f('uq_visits_client_uuid'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_child_visited', ['child_id', 'visited_on'], unique=False)
        batch_op.create_index('ix_visits_visited_superseded_child', ['visited_on', 'superseded', 'child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_visitor_id'), ['visitor_id'], unique=False)

    op.create_table('visit_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_needs_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_needs')),
    sa.UniqueConstraint('visit_id', 'category', name=op.f('uq_visit_needs_visit_id_category'))
    )
    with op.batch_alter_table('visit_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_needs_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_needs_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_visit_on', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('last_visit_on')

    with op.batch_alter_table('visit_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_needs_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_needs_category'))

    op.drop_table('visit_needs')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_visitor_id'))
        batch_op.drop_index('ix_visits_visited_superseded_child')
        batch_op.drop_index('ix_visits_child_visited')

    op.drop_table('visits')
