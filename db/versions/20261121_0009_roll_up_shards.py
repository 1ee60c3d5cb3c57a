"""month_totals, topic_months: each total spread over shards, so writers rarely share a row

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = {
    'month_totals': ['month', 'channel', 'language'],
    'topic_months': ['month', 'topic_id'],
}


_COUNTS = {
    'month_totals': [
        'contacts', 'answered', 'handed_off', 'reached', 'beneficiaries', 'new_beneficiaries'
    ],
    'topic_months': ['contacts'],
}


def upgrade() -> None:
    # The rows kept so far become shard 0 of their totals.
    for table, keys in _KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('shard', sa.Integer(), server_default='0', nullable=False)
            )
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', [*keys, 'shard'])


def downgrade() -> None:
    # Each total's shards are summed back into one row.
    for table, keys in _KEYS.items():
        key_list = ', '.join(keys)
        names = ', '.join(_COUNTS[table])
        sums = ', '.join(f'SUM({name}) AS {name}' for name in _COUNTS[table])
        op.execute(
            f'CREATE TABLE {table}_summed AS '
            f'SELECT {key_list}, {sums} FROM {table} GROUP BY {key_list}'
        )
        op.execute(f'DELETE FROM {table}')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', keys)
            batch_op.drop_column('shard')
        op.execute(
            f'INSERT INTO {table} ({key_list}, {names}) '
            f'SELECT {key_list}, {names} FROM {table}_summed'
        )
        op.execute(f'DROP TABLE {table}_summed')
