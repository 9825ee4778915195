"""chat_subscriptions.silent: a chat's digests and alerts may arrive without a sound.

`/subscribe ... silent` sets it and `/subscribe ... sound` clears it; the outbox sends that chat's
digests, strong-signal alerts and weekly summaries with Telegram's disable_notification. Chats
subscribed before this revision keep their sound (false).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('chat_subscriptions') as batch:
        batch.add_column(sa.Column('silent', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('chat_subscriptions') as batch:
        batch.drop_column('silent')
