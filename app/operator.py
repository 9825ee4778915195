"""The operator service: plain Python returning data; the CLI and chat only parse and render."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from config import Settings
from storage.db import Sessions
from storage.models import ProposalRow, Run
from trading.proposals import ProposalStatus, is_expired, transition
from trading.state import TradingState, read_state, write_state

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ProposalView:
    id: int
    symbol: str
    side: str
    quantity: float
    notional: float
    probability: float
    status: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class StatusReport:
    trading_state: TradingState
    mode: str
    sentiment_backend: str
    last_run: datetime | None
    last_run_status: str | None
    last_as_of: datetime | None
    degraded: bool
    problems: tuple[str, ...]
    pending_proposals: tuple[ProposalView, ...]

    @property
    def paused(self) -> bool:
        return self.trading_state is TradingState.HALTED


@dataclass(frozen=True)
class ActionResult:
    """What an operator action did, for any channel to render: ok or a reason code and a plain message."""

    ok: bool
    code: str  # "OK" or a reason such as "EXPIRED", "NOT_FOUND", "GUARD_MAX_POSITION"
    message: str
    proposal: ProposalView | None = None
    needs_confirmation: bool = False  # risky action: ask, then call again with confirm=True


@dataclass(frozen=True)
class StateChange:
    before: TradingState
    after: TradingState

    @property
    def changed(self) -> bool:
        return self.before is not self.after


def _view(row: ProposalRow) -> ProposalView:
    return ProposalView(
        row.id, row.symbol, row.side, row.quantity, row.notional, row.probability,
        row.status, row.created_at, row.expires_at,
    )


class OperatorService:
    def __init__(self, settings: Settings, sessions: Sessions, clock: Clock) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock

    def expire_stale(self) -> int:
        """Proposals nobody answered in time can no longer be approved; record that."""
        now = self._clock()
        with self._sessions.begin() as session:
            stale = [
                row for row in session.scalars(select(ProposalRow).where(ProposalRow.status == ProposalStatus.PROPOSED.value))
                if is_expired(row, now)
            ]
            for row in stale:
                transition(row, ProposalStatus.EXPIRED, "clock", now)
        return len(stale)

    def proposals(self, include_closed: bool = False) -> list[ProposalView]:
        self.expire_stale()
        query = select(ProposalRow).order_by(ProposalRow.id.desc())
        if not include_closed:
            query = query.where(ProposalRow.status == ProposalStatus.PROPOSED.value)
        with self._sessions() as session:
            return [_view(row) for row in session.scalars(query)]

    def status(self) -> StatusReport:
        pending = tuple(self.proposals())
        with self._sessions() as session:
            state = read_state(session).state
            last = session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()
        backend = last.sentiment_backend if last else f"{self._settings.sentiment_backend} (no run yet)"
        return StatusReport(
            trading_state=state,
            mode=self._settings.trading_mode,
            sentiment_backend=backend,
            last_run=last.started_at if last else None,
            last_run_status=last.status if last else None,
            last_as_of=last.as_of if last else None,
            degraded=bool(last and last.status in ("degraded", "failed")),
            problems=tuple(last.problems) if last else (),
            pending_proposals=pending,
        )

    def _set_state(self, state: TradingState, actor: str) -> StateChange:
        with self._sessions.begin() as session:
            before = read_state(session).state
            if before is not state:
                write_state(session, state, actor, self._clock())
        return StateChange(before, state)

    def pause(self, actor: str) -> StateChange:
        return self._set_state(TradingState.HALTED, actor)

    def resume(self, actor: str) -> StateChange:
        return self._set_state(TradingState.ACTIVE, actor)

    # --- trading operations (approve, reject, size, positions, pnl, orders) ---

    # --- chat operations (subscriptions, digest now, recent signals, help) ---
