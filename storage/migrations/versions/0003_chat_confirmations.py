"""Pending confirmations kept server-side under a short token (chat buttons carry only the token).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'chat_confirmations',
        sa.Column('token', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('chat_id', sa.BigInteger(), nullable=True),
        sa.Column('command', sa.String(length=32), nullable=False),
        sa.Column('arguments', sa.JSON(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=True),
        sa.Column('proposal_version', sa.String(length=16), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token'),
    )


def downgrade() -> None:
    op.drop_table('chat_confirmations')
