"""people.language_explicit: a chosen language is kept, an inferred one may follow the person

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing people chose their language from the picker or had it inferred; without a
    # record of which, treating it as inferred lets a clearly different message correct it.
    with op.batch_alter_table('people') as batch_op:
        batch_op.add_column(
            sa.Column('language_explicit', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('people') as batch_op:
        batch_op.drop_column('language_explicit')
