"""child registry

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:30:10.698810

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('bad_rows', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_batches_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('result_path', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_user_id'), ['user_id'], unique=False)

    op.create_table('children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_no', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('name_initials', sa.String(length=40), nullable=False),
    sa.Column('name_pinyin', sa.String(length=160), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('id_last4', sa.String(length=4), nullable=True),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('ethnicity', sa.String(length=20), nullable=False),
    sa.Column('hukou_village_id', sa.Integer(), nullable=True),
    sa.Column('residence_village_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('grade', sa.String(length=20), nullable=True),
    sa.Column('health', sa.String(length=200), nullable=True),
    sa.Column('disability_kind', sa.String(length=20), nullable=True),
    sa.Column('disability_grade', sa.String(length=10), nullable=True),
    sa.Column('disability_certificate', sa.String(length=40), nullable=True),
    sa.Column('attention_level', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('exit_reason', sa.String(length=30), nullable=True),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.Column('state_guardianship', sa.String(length=12), nullable=False),
    sa.Column('guardianship_unit', sa.String(length=80), nullable=True),
    sa.Column('caregiver_name', sa.String(length=40), nullable=True),
    sa.Column('caregiver_relation', sa.String(length=20), nullable=True),
    sa.Column('caregiver_phone', sa.String(length=20), nullable=True),
    sa.Column('caregiver_confirmed_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_children_created_by_id_users')),
    sa.ForeignKeyConstraint(['hukou_village_id'], ['villages.id'], name=op.f('fk_children_hukou_village_id_villages')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batches.id'], name=op.f('fk_children_import_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['residence_village_id'], ['villages.id'], name=op.f('fk_children_residence_village_id_villages')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_children_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children')),
    sa.UniqueConstraint('archive_no', name=op.f('uq_children_archive_no')),
    sa.UniqueConstraint('id_number', name=op.f('uq_children_id_number'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_children_attention_level'), ['attention_level'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_id_last4'), ['id_last4'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_name_initials'), ['name_initials'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_status'), ['status'], unique=False)
        batch_op.create_index('ix_children_village_status', ['residence_village_id', 'status'], unique=False)

    op.create_table('benefits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('period', sa.String(length=20), nullable=True),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_benefits_child_id_children')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefits'))
    )
    with op.batch_alter_table('benefits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefits_child_id'), ['child_id'], unique=False)

    op.create_table('child_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_child_categories_child_id_children')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_child_categories')),
    sa.UniqueConstraint('child_id', 'category', name=op.f('uq_child_categories_child_id_category'))
    )
    with op.batch_alter_table('child_categories', schema=None) as batch_op:
        batch_op.create_index('ix_child_categories_category_child', ['category', 'child_id'], unique=False)

    op.create_table('child_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=40), nullable=True),
    sa.Column('section', sa.String(length=20), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_child_changes_child_id_children')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_child_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_child_changes'))
    )
    with op.batch_alter_table('child_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_changes_child_id'), ['child_id'], unique=False)

    op.create_table('family_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('work', sa.String(length=60), nullable=True),
    sa.Column('work_place', sa.String(length=80), nullable=True),
    sa.Column('works_away', sa.Boolean(), nullable=False),
    sa.Column('guardianship_capacity', sa.String(length=10), nullable=False),
    sa.Column('is_guardian', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_family_members_child_id_children')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_members'))
    )
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_members_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_family_members_phone'), ['phone'], unique=False)

    op.create_table('parent_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_uuid', sa.String(length=36), nullable=True),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('contacted_on', sa.Date(), nullable=False),
    sa.Column('who', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_parent_contacts_child_id_children')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_parent_contacts_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_contacts')),
    sa.UniqueConstraint('client_uuid', name=op.f('uq_parent_contacts_client_uuid'))
    )
    with op.batch_alter_table('parent_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parent_contacts_child_id'), ['child_id'], unique=False)



def downgrade():
    with op.batch_alter_table('parent_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parent_contacts_child_id'))

    op.drop_table('parent_contacts')
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_members_phone'))
        batch_op.drop_index(batch_op.f('ix_family_members_child_id'))

    op.drop_table('family_members')
    with op.batch_alter_table('child_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_child_changes_child_id'))

    op.drop_table('child_changes')
    with op.batch_alter_table('child_categories', schema=None) as batch_op:
        batch_op.drop_index('ix_child_categories_category_child')

    op.drop_table('child_categories')
    with op.batch_alter_table('benefits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefits_child_id'))

    op.drop_table('benefits')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index('ix_children_village_status')
        batch_op.drop_index(batch_op.f('ix_children_status'))
        batch_op.drop_index(batch_op.f('ix_children_school_id'))
        batch_op.drop_index(batch_op.f('ix_children_name_initials'))
        batch_op.drop_index(batch_op.f('ix_children_name'))
        batch_op.drop_index(batch_op.f('ix_children_id_last4'))
        batch_op.drop_index(batch_op.f('ix_children_birth_date'))
        batch_op.drop_index(batch_op.f('ix_children_attention_level'))

    op.drop_table('children')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_user_id'))

    op.drop_table('jobs')
    op.drop_table('import_batches')
