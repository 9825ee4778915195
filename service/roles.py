"""Who may do what, and the error for garbled arguments: shared by the command table and the operator
service's helpers (service/chat_ops.py), so neither has to import the other."""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    """What a caller may do, least to most: strangers nothing, readers look, subscribers also subscribe."""

    STRANGER = "stranger"
    READER = "reader"  # a member of a chat that is subscribed (e.g. a group an operator subscribed)
    SUBSCRIBER = "subscriber"  # listed in TB_TELEGRAM_SUBSCRIBERS
    OPERATOR = "operator"  # listed in TB_TELEGRAM_OPERATORS; the shell user counts as one

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def may(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class UsageError(ValueError):
    """Garbled arguments; the message shows the right usage."""
