"""What command handlers return when the service's own answer is a bare list or flag.

Each command's answer has a type of its own (`Help` and `Intro` live beside the table they describe), so every channel finds its rendering by type
(`bot/messages.py`) and the shell its JSON form (`cli/operator.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
