"""ticket_cards: what each card last showed, so cards left behind are brought up to date

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('shown_lines', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shown_open', sa.Boolean(), nullable=True))
    # The cards posted before showed every message they were told of: the person's next one
    # is posted under them. With no digest, open tickets' cards are shown again once at the
    # next start; closed tickets' cards (shown_open unknown) are not all edited again at once.
    op.execute(
        'UPDATE ticket_cards SET shown_lines = ('
        'SELECT count(*) FROM ticket_messages'
        ' WHERE ticket_messages.ticket_id = ticket_cards.ticket_id'
        ') WHERE is_card'
    )


def downgrade() -> None:
    with op.batch_alter_table('ticket_cards', schema=None) as batch_op:
        batch_op.drop_column('shown_open')
        batch_op.drop_column('shown_lines')
        batch_op.drop_column('shown_digest')
