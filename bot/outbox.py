"""The durable outbox: every outgoing chat message is a row first, delivered (and retried) from there.

A message is keyed by what it is (its logical key) and where it goes; putting the same key twice
is a no-op, so an alert raised again, a reply to a re-delivered update or a digest re-scheduled
after a crash is queued once. Rows are never deleted by delivery: `sent` and `failed` stay as the record.

Delivery is at least once (README "Nothing lost"): `unknown` marks a message whose last send got no
answer in time, so Telegram may have shown it; it is sent again only after a delay, never at once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from redaction import redact
from storage.chat_models import OutboxMessage
from storage.db import Sessions

log = logging.getLogger(__name__)
PENDING, SENT, FAILED, UNKNOWN = "pending", "sent", "failed", "unknown"
UNDELIVERED = (PENDING, UNKNOWN)


@dataclass(frozen=True)
class Envelope:
    """A message to put in the outbox."""

    key: str  # logical identity, e.g. "digest:2025-12-14:run7"; the destination is added to it
    channel: str  # "telegram" | "discord"
    destination: str  # a Telegram chat id, or "webhook"
    kind: str
    payload: dict[str, Any]
    backup: dict[str, Any] | None = None  # Discord payload to send if Telegram delivery fails
    backup_key: str | None = None

    @property
    def full_key(self) -> str:
        return f"{self.key}@{self.channel}:{self.destination}"


@dataclass(frozen=True)
class Pending:
    """A snapshot of one undelivered row, for the delivery worker."""

    id: int
    key: str
    channel: str
    destination: str
    kind: str
    payload: dict[str, Any]
    backup: dict[str, Any] | None
    backup_key: str | None
    parts_sent: int
    attempts: int
    next_attempt_at: datetime
    status: str = PENDING  # or UNKNOWN: the last attempt may have been delivered


def _row(key: str, envelope: Envelope, now: datetime) -> OutboxMessage:
    return OutboxMessage(key=key, channel=envelope.channel, destination=envelope.destination, kind=envelope.kind,
                         payload=envelope.payload, backup=envelope.backup, backup_key=envelope.backup_key,
                         parts_sent=0, status=PENDING, attempts=0, next_attempt_at=now, created_at=now)


def _pending(row: OutboxMessage) -> Pending:
    return Pending(row.id, row.key, row.channel, row.destination, row.kind, row.payload, row.backup, row.backup_key,
                   row.parts_sent, row.attempts, row.next_attempt_at, row.status)


class Outbox:
    def __init__(self, sessions: Sessions, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def put(self, envelope: Envelope) -> bool:
        """Queue `envelope`; False when a message with the same key and destination was queued before."""
        return self.put_all([envelope])[0]

    def put_all(self, envelopes: Sequence[Envelope], rows: Sequence[object] = ()) -> list[bool]:
        """Queue several envelopes, and store `rows` (e.g. the command log entry they answer), in one
        transaction: one commit for a whole burst of replies. Per envelope, False if its key was queued before."""
        keys = [e.full_key for e in envelopes]
        for key in keys:
            if len(key) > 255:
                raise ValueError(f"outbox key too long ({len(key)} > 255): {key[:60]}...")
        now = self._clock()
        try:
            with self._sessions.begin() as session:
                taken = set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys)))) if keys else set()
                queued = []
                for key, envelope in zip(keys, envelopes):
                    queued.append(key not in taken)
                    if key not in taken:
                        taken.add(key)  # the same key twice in one batch goes out once
                        session.add(_row(key, envelope, now))
                session.add_all(rows)
            return queued
        except IntegrityError:  # another writer queued one of the keys between our check and insert
            if len(envelopes) == 1 and not rows:
                return [False]
        # One at a time, so the others are not lost with the one already taken.
        queued = [self.put(envelope) for envelope in envelopes]
        if rows:
            with self._sessions.begin() as session:
                session.add_all(rows)
        return queued

    def pending(self) -> list[Pending]:
        """Every undelivered message, oldest first (per destination, that is the order of delivery)."""
        with self._sessions() as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.status.in_(UNDELIVERED))
                                   .order_by(OutboxMessage.id))
            return [_pending(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
            return {status: n for status, n in rows}

    def _update(self, message_id: int, **values: Any) -> None:
        with self._sessions.begin() as session:
            row = session.get_one(OutboxMessage, message_id)
            for name, value in values.items():
                setattr(row, name, value)

    def progress(self, message_id: int, parts_sent: int) -> None:
        self._update(message_id, parts_sent=parts_sent)

    def sent(self, message_id: int, parts: int) -> None:
        self._update(message_id, status=SENT, parts_sent=parts, sent_at=self._clock(), last_error=None)

    def retry(self, message_id: int, attempts: int, delay: timedelta, error: str) -> None:
        self._update(message_id, status=PENDING, attempts=attempts, next_attempt_at=self._clock() + delay,
                     last_error=redact(error)[:2000])

    def unknown(self, message_id: int, attempts: int, delay: timedelta, error: str) -> None:
        """The last send got no answer in time: it may have been delivered. Tried again after `delay`."""
        self._update(message_id, status=UNKNOWN, attempts=attempts, next_attempt_at=self._clock() + delay,
                     last_error=redact(error)[:2000])

    def failed(self, message_id: int, attempts: int, error: str) -> None:
        """Undeliverable for good (the chat blocked the bot, the chat is gone): kept, not retried."""
        log.error("outbox message %s undeliverable: %s", message_id, redact(error))
        self._update(message_id, status=FAILED, attempts=attempts, last_error=redact(error)[:2000])

    def moved(self, message_id: int, destination: str) -> None:
        self._update(message_id, destination=destination)
