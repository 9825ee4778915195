"""What command handlers return when the service's own answer is a bare list or flag.

Each command's answer has a type of its own (`Help` and `Intro` live beside the table they describe), so every channel finds its rendering by type
(`bot/messages.py`) and the shell its JSON form (`cli/operator.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from intelligence.prediction_markets import PredictionMarketsSection
    from service.chat_ops import DigestSnapshot
    from service.chat_ops import SignalView
    from service.proposal_card import ProposalCard
    from service.account import PositionLine
    from service.account import AccountSummary
    from trading.state import TradingState
    from trading.views import CloseView, HeldView, OrderView, PerformanceRow, ProposalView, TradeView


@dataclass(frozen=True)
class FullDigest:
    """/digest full: every asset with its evidence, not only the calls."""

    snapshot: DigestSnapshot


@dataclass(frozen=True)
class NoDigest:
    """No cycle has finished yet."""


@dataclass(frozen=True)
class Signals:
    items: tuple[SignalView, ...]


@dataclass(frozen=True)
class Proposals:
    items: tuple[ProposalCard, ...]


@dataclass(frozen=True)
class Positions:
    items: tuple[PositionLine, ...]


@dataclass(frozen=True)
class Orders:
    items: tuple[OrderView, ...]


@dataclass(frozen=True)
class Unsubscribed:
    was_subscribed: bool


@dataclass(frozen=True)
class Trades:
    items: tuple[TradeView, ...]  # newest first


@dataclass(frozen=True)
class Performance:
    items: tuple[PerformanceRow, ...]  # best realised P&L first


@dataclass(frozen=True)
class Markets:
    """/markets: the prediction-markets section of the latest finished cycle."""

    enabled: bool  # TB_POLYMARKET
    run_id: int | None  # the latest finished cycle; None before the first
    as_of: datetime | None
    section: PredictionMarketsSection | None  # None: that cycle did not read the markets


@dataclass(frozen=True)
class ChartImage:
    """/chart: the picture (PNG) and what it shows in words (service/charts.py)."""

    symbol: str
    png: bytes
    caption: str


@dataclass(frozen=True)
class ChartRefused:
    """/chart could not draw: why, in one line (an unknown symbol names the nearest known ones)."""

    message: str
    unknown_symbol: bool = False


# --- what the operator service's reads and actions return (service/operator.py) ---

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
    halted_by_guard: str | None = None  # the guard's reason code when a breach, not an operator, halted trading
    account: AccountSummary | None = None  # the last look at the account (None before the broker was asked)

    @property
    def paused(self) -> bool:
        from trading.state import TradingState  # at use: the command table imports this module for --help

        return self.trading_state is TradingState.HALTED


@dataclass(frozen=True)
class ActionResult:
    """What an operator action did, for any channel to render: ok or a reason code and a plain message."""

    ok: bool
    code: str  # "OK" or a reason such as "EXPIRED", "NOT_FOUND", "GUARD_MAX_POSITION"
    message: str
    proposal: ProposalView | None = None
    needs_confirmation: bool = False  # risky action: ask, then call again with confirm=True
    quantity: float | None = None  # what the confirmed action would trade or size the proposal to


@dataclass(frozen=True)
class CloseResult(ActionResult):
    """/close: an action like /approve (it may ask to confirm), with what it closed."""

    close: CloseView | None = None


@dataclass(frozen=True)
class FlattenResult(ActionResult):
    closes: tuple[CloseView, ...] = ()  # each position: what would be closed, or what was


@dataclass(frozen=True)
class KeepResult(ActionResult):
    position: HeldView | None = None


@dataclass(frozen=True)
class StateChange:
    before: TradingState
    after: TradingState
    # What the change does to open positions, from the store (no broker call: a pause must work when it is down):
    protected: int = 0  # positions whose bracket (stop-loss and take-profit) stays live at the broker
    horizon_exit: bool = True  # whether positions close at their signal's horizon (TB_HORIZON_EXIT)

    @property
    def changed(self) -> bool:
        return self.before is not self.after
