"""contacts, their monthly roll-ups, assessments, knowledge versions, report deliveries

What the coordinator's reports count: contacts keyed by pseudonym (never a platform id) with
the topics answered in them; monthly totals by channel and language, and per topic, added
to as contacts are written, so that a yearly report reads a few hundred rows rather than
every contact; the open contact beside the person; 👍/👎 assessments; each new
knowledge-base content; and the monthly reports already delivered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assessments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('positive', sa.Boolean(), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('topic_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_created_at'), ['created_at'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('handed_off', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('helped', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_person_key'), ['person_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_started_at'), ['started_at'], unique=False)

    op.create_table('knowledge_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('topics', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_versions')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_knowledge_versions_fingerprint'))
    )
    op.create_table('month_totals',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('contacts', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('handed_off', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('beneficiaries', sa.Integer(), nullable=False),
    sa.Column('new_beneficiaries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'channel', 'language', name=op.f('pk_month_totals'))
    )
    op.create_table('report_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_deliveries')),
    sa.UniqueConstraint('period', name=op.f('uq_report_deliveries_period'))
    )
    op.create_table('topic_months',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('topic_id', sa.String(length=64), nullable=False),
    sa.Column('contacts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'topic_id', name=op.f('pk_topic_months'))
    )
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('contact_month', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('contact_ended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('contact_answered', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('contact_helped', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('contact_topics', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reached_month', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('helped_month', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('helped_year', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('helped_year')
        batch_op.drop_column('helped_month')
        batch_op.drop_column('reached_month')
        batch_op.drop_column('contact_topics')
        batch_op.drop_column('contact_helped')
        batch_op.drop_column('contact_answered')
        batch_op.drop_column('contact_ended_at')
        batch_op.drop_column('contact_month')
        batch_op.drop_column('contact_id')

    op.drop_table('topic_months')
    op.drop_table('report_deliveries')
    op.drop_table('month_totals')
    op.drop_table('knowledge_versions')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_started_at'))
        batch_op.drop_index(batch_op.f('ix_contacts_person_key'))

    op.drop_table('contacts')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_created_at'))

    op.drop_table('assessments')
