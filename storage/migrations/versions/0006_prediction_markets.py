"""Prediction markets: each Polymarket market matched to an asset, and every sighting of its price.

`prediction_markets` holds what a market asks (asset, kind, threshold, end) and, once it has
resolved, its outcome; `prediction_market_snapshots` holds the implied probability, volume and
liquidity at each cycle with the engine's comparable probability and the digest's line beside it;
`prediction_market_runs` the section's counts and note per cycle (storage/market_models.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'prediction_markets',
        sa.Column('market_id', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('slug', sa.String(length=255), nullable=False),
        sa.Column('symbol', sa.String(length=16), nullable=False),
        sa.Column('asset_name', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=True),
        sa.Column('upper', sa.Float(), nullable=True),
        sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.Boolean(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('market_id'))
    op.create_index(op.f('ix_prediction_markets_symbol'), 'prediction_markets', ['symbol'], unique=False)
    op.create_index(op.f('ix_prediction_markets_end_at'), 'prediction_markets', ['end_at'], unique=False)
    op.create_table(
        'prediction_market_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('market_id', sa.String(length=64), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('implied_probability', sa.Float(), nullable=False),
        sa.Column('volume', sa.Float(), nullable=False),
        sa.Column('liquidity', sa.Float(), nullable=False),
        sa.Column('comparable', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('engine_probability', sa.Float(), nullable=True),
        sa.Column('signal_as_of', sa.DateTime(timezone=True), nullable=True),
        sa.Column('horizon_hours', sa.Float(), nullable=True),
        sa.Column('line', sa.Text(), nullable=False),
        sa.Column('digest_rank', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['market_id'], ['prediction_markets.market_id']),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index(op.f('ix_prediction_market_snapshots_run_id'), 'prediction_market_snapshots', ['run_id'],
                    unique=False)
    op.create_index('ix_prediction_market_snapshots_market_seen', 'prediction_market_snapshots',
                    ['market_id', 'seen_at'], unique=False)
    op.create_table(
        'prediction_market_runs',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id']),
        sa.PrimaryKeyConstraint('run_id'))


def downgrade() -> None:
    op.drop_table('prediction_market_runs')
    op.drop_index('ix_prediction_market_snapshots_market_seen', table_name='prediction_market_snapshots')
    op.drop_index(op.f('ix_prediction_market_snapshots_run_id'), table_name='prediction_market_snapshots')
    op.drop_table('prediction_market_snapshots')
    op.drop_index(op.f('ix_prediction_markets_end_at'), table_name='prediction_markets')
    op.drop_index(op.f('ix_prediction_markets_symbol'), table_name='prediction_markets')
    op.drop_table('prediction_markets')
