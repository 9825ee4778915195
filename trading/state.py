"""Trading state: ACTIVE trades, REDUCING only exits, HALTED nothing. Persisted, with who set it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session

from storage.models import StateRow

KEY = "trading_state"


class TradingState(str, Enum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


@dataclass(frozen=True)
class StateRecord:
    state: TradingState
    since: datetime | None
    by: str | None


def read_state(session: Session) -> StateRecord:
    row = session.get(StateRow, KEY)
    if row is None:
        return StateRecord(TradingState.ACTIVE, None, None)
    return StateRecord(TradingState(row.value), row.updated_at, row.updated_by)


def write_state(session: Session, state: TradingState, actor: str, now: datetime) -> None:
    row = session.get(StateRow, KEY)
    if row is None:
        session.add(StateRow(key=KEY, value=state.value, updated_at=now, updated_by=actor))
    else:
        row.value, row.updated_at, row.updated_by = state.value, now, actor
