"""SQLAlchemy 2.0 models: everything a cycle saw, scored, said and proposed."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.signal_keys import fingerprint_default


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, gives back aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; use UTC")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # running | ok | degraded | failed
    sentiment_backend: Mapped[str] = mapped_column(String(64))
    headline_count: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)

    signals: Mapped[list[SignalRow]] = relationship(back_populates="run")


class HeadlineRow(Base):
    __tablename__ = "headlines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # Headline.id
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    # The publisher's symbol tags (Alpaca news), so a story recalled from the store still counts for them.
    symbols: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class SentimentRow(Base):
    """Score cache and record: one row per text and model version, so a headline is scored once."""

    __tablename__ = "sentiment_scores"
    __table_args__ = (UniqueConstraint("content_hash", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(160))  # backend name and version
    label: Mapped[str] = mapped_column(String(16))
    positive: Mapped[float] = mapped_column(Float)
    negative: Mapped[float] = mapped_column(Float)
    neutral: Mapped[float] = mapped_column(Float)


class SignalRow(Base):
    __tablename__ = "signals"
    # The cycle's history reads (pipeline/signal_state.py): a symbol's latest signals before as-of, and the
    # latest calls of all symbols before as-of. Revision 0002 adds them (bench/cycle_history.py: 2.3x).
    __table_args__ = (Index("ix_signals_symbol_as_of", "symbol", "as_of"), Index("ix_signals_as_of", "as_of"),
                      Index("ix_signals_fingerprint", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    symbol: Mapped[str] = mapped_column(String(16), index=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    direction: Mapped[str] = mapped_column(String(8))
    probability: Mapped[float | None] = mapped_column(Float)
    conviction: Mapped[float] = mapped_column(Float)
    horizon_hours: Mapped[float] = mapped_column(Float)
    narrative_score: Mapped[float] = mapped_column(Float)
    price_score: Mapped[float] = mapped_column(Float)
    divergence: Mapped[float] = mapped_column(Float)
    reason_codes: Mapped[list[str]] = mapped_column(JSON)
    evidence: Mapped[str] = mapped_column(Text)
    # Every number behind the evidence line: per-timescale scores, volume, headlines used.
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The same signal in every cycle that makes it (storage/signal_keys.py); set on insert.
    fingerprint: Mapped[str] = mapped_column(String(32), default=fingerprint_default)

    run: Mapped[Run] = relationship(back_populates="signals")


class ProposalRow(Base):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), unique=True)
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))  # buy | sell
    quantity: Mapped[float] = mapped_column(Float)
    notional: Mapped[float] = mapped_column(Float)
    reference_price: Mapped[float] = mapped_column(Float)
    probability: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(24), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class StateRow(Base):
    """Small named pieces of operator state (trading state, who paused and why)."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
