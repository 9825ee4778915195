"""What command handlers return when the service's own answer is a bare list or flag.

Each command's answer has a type of its own (`Help` and `Intro` live beside the table they describe), so every channel finds its rendering by type
(`bot/messages.py`) and the shell its JSON form (`cli/operator.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.chat_ops import SignalView
    from trading.views import OrderView, PositionView, ProposalView


@dataclass(frozen=True)
class NoDigest:
    """No cycle has finished yet."""


@dataclass(frozen=True)
class Signals:
    items: tuple[SignalView, ...]


@dataclass(frozen=True)
class Proposals:
    items: tuple[ProposalView, ...]


@dataclass(frozen=True)
class Positions:
    items: tuple[PositionView, ...]


@dataclass(frozen=True)
class Orders:
    items: tuple[OrderView, ...]


@dataclass(frozen=True)
class Unsubscribed:
    was_subscribed: bool
