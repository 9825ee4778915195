"""The universe in the store: operators' watchlist changes, broker asset lookups, headline symbol tags.

`watchlist` holds /watch and /unwatch (the watchlist is TB_UNIVERSE with them applied); `asset_lookups`
remembers US symbols the catalogue lacked as Alpaca described them; `headlines.symbols` keeps the
publisher's symbol tags (Alpaca news) so a story recalled from the store still counts for its assets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('asset_lookups',
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('asset_class', sa.String(length=16), nullable=False),
    sa.Column('exchange', sa.String(length=32), nullable=False),
    sa.Column('tradable', sa.Boolean(), nullable=False),
    sa.Column('fractionable', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('looked_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('symbol')
    )
    op.create_table('watchlist',
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('watched', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('symbol')
    )
    with op.batch_alter_table('headlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('symbols', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('headlines', schema=None) as batch_op:
        batch_op.drop_column('symbols')

    op.drop_table('watchlist')
    op.drop_table('asset_lookups')
