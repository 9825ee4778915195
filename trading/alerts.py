"""Alerts out of the core (fills, halts, guard breaches, errors): one protocol, channels implement it."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    kind: str  # "proposal", "fill", "halt", "guard_breach", "error", "reconciliation"
    text: str  # plain, human-readable; channels escape and format it
    key: str  # stable identity: the same key is delivered once, however often it is raised


class Notifier(Protocol):
    def alert(self, alert: Alert) -> None: ...


class LogNotifier:
    """Where alerts go when no chat channel is configured: the process log (stderr)."""

    def alert(self, alert: Alert) -> None:
        log.warning("%s: %s", alert.kind, alert.text)
