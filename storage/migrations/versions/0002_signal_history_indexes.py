"""Indexes for the cycle's history reads: signals by (symbol, as_of) and by as_of.

Every live cycle reads each symbol's latest signals before as-of (divergence history) and the latest
calls of all symbols before as-of (the calibrator); without these both scan the table. Measured by
bench/cycle_history.py on a store of 2000 cycles.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_signals_symbol_as_of', 'signals', ['symbol', 'as_of'], unique=False)
    op.create_index('ix_signals_as_of', 'signals', ['as_of'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_signals_as_of', table_name='signals')
    op.drop_index('ix_signals_symbol_as_of', table_name='signals')
