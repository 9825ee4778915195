"""Chat tables: digest subscriptions per chat, the durable outbox, and the log of every command."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class ChatSubscription(Base):
    """One row per chat that ever subscribed; `active` false after /unsubscribe (kept for the record)."""

    __tablename__ = "chat_subscriptions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", local to `timezone`
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. "Europe/Berlin"
    immediate_alerts: Mapped[bool] = mapped_column(Boolean, default=True)
    # Digests and alerts sent with Telegram's disable_notification (/subscribe ... silent).
    silent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The local date of the last scheduled digest, so each day's digest goes out once.
    last_digest_on: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """One logical message to one destination. Parts (after splitting) go out in order; `parts_sent`
    is how far delivery got, so a retry resumes there instead of repeating parts."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # logical key @ channel:destination
    channel: Mapped[str] = mapped_column(String(16), index=True)  # telegram | discord
    destination: Mapped[str] = mapped_column(String(64))  # chat id, or "webhook"
    kind: Mapped[str] = mapped_column(String(24))  # digest, alert, reply, edit, backup, ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What to send to Discord if this Telegram message cannot be delivered (None: nothing).
    backup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    backup_key: Mapped[str | None] = mapped_column(String(255))
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | unknown (may have gone out) | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChatCommandLog(Base):
    """Every command and button press from any chat, allowed or refused: who, where, what, outcome."""

    __tablename__ = "chat_command_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    command: Mapped[str] = mapped_column(String(32))
    arguments: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(16))
    allowed: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(64))  # "OK", a refusal, or a result code


class ChatConfirmation(Base):
    """A question the bot asked ("Confirm size 1.9 ETH?") kept server-side under a short token: the button
    carries only the token, so it fits Telegram's 64 bytes whatever the arguments, and the answer is
    single-use, bound to the one who asked and to the proposal as it was when asked."""

    __tablename__ = "chat_confirmations"

    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    command: Mapped[str] = mapped_column(String(32))
    arguments: Mapped[list[str]] = mapped_column(JSON)
    proposal_id: Mapped[int | None] = mapped_column(Integer)
    proposal_version: Mapped[str | None] = mapped_column(String(16))  # the proposal's version when asked
    state: Mapped[str] = mapped_column(String(12))  # pending | used | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
