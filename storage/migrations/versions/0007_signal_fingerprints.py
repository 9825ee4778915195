"""signals.fingerprint: one key for the same signal in every cycle that makes it.

A repeat of a signal on the same story (same asset, direction and narrative headlines) gets the
same key, so /signals folds repeats into one row and a signal is proposed at most once
(storage/signal_keys.py). Rows stored before this revision get their key here, computed by a copy
of that function as it stood (a revision is history and imports no app code); the column is then
made NOT NULL and indexed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 500


def _fingerprint(symbol: str, direction: str, as_of: Any, features: Any) -> str:
    if isinstance(features, str):  # a JSON column read without its type
        features = json.loads(features)
    narrative = (features or {}).get("narrative") or {}
    headlines = sorted({str(h["id"]) for h in narrative.get("headlines") or () if isinstance(h, dict) and h.get("id")})
    basis: dict = {"symbol": symbol, "direction": direction}
    if headlines:
        basis["headlines"] = headlines
    else:
        if isinstance(as_of, str):
            as_of = datetime.fromisoformat(as_of)
        if as_of is not None:
            as_of = as_of.replace(tzinfo=timezone.utc) if as_of.tzinfo is None else as_of.astimezone(timezone.utc)
        basis["as_of"] = as_of.isoformat() if as_of is not None else None
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:32]


def upgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.add_column(sa.Column('fingerprint', sa.String(length=32), nullable=True))
    signals = sa.table('signals', sa.column('id', sa.Integer()), sa.column('symbol', sa.String()),
                       sa.column('direction', sa.String()), sa.column('as_of', sa.DateTime(timezone=True)),
                       sa.column('features', sa.JSON()), sa.column('fingerprint', sa.String()))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(signals.c.id, signals.c.symbol, signals.c.direction, signals.c.as_of, signals.c.features)
            .where(signals.c.id > last).order_by(signals.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            connection.execute(signals.update().where(signals.c.id == row.id).values(
                fingerprint=_fingerprint(row.symbol, row.direction, row.as_of, row.features)))
        last = rows[-1].id
    with op.batch_alter_table('signals') as batch:
        batch.alter_column('fingerprint', existing_type=sa.String(length=32), nullable=False)
        batch.create_index('ix_signals_fingerprint', ['fingerprint'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.drop_index('ix_signals_fingerprint')
        batch.drop_column('fingerprint')
