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
    from trading.views import OrderView, PerformanceRow, TradeView


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
