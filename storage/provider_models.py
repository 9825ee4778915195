"""What the data providers remember across restarts: feed validators and circuit breaker states."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class FeedValidatorRow(Base):
    """The ETag / Last-Modified of a feed's last stored answer: a restart still asks with If-None-Match."""

    __tablename__ = "feed_validators"

    # The feed URL as configured (before redirects) without user, password or query values, plus a
    # hash when those were there (pipeline/provider_store.validator_key): no credential is stored.
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BreakerRow(Base):
    """One provider's circuit breaker: a restart keeps an open breaker open until its cool-down ends."""

    __tablename__ = "provider_breakers"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)  # e.g. "rss:CoinDesk", "alpaca:bars"
    state: Mapped[str] = mapped_column(String(16))  # closed | open | half_open
    failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
