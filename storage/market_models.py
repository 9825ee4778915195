"""Prediction markets as they were seen: each market once, each sighting of its price, and how it resolved."""
from __future__ import annotations

from datetime import datetime

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class PredictionMarketRow(Base):
    """One market matched to an asset: what it asks, and its outcome once it has resolved."""

    __tablename__ = "prediction_markets"

    market_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Gamma's market id
    source: Mapped[str] = mapped_column(String(32))  # "polymarket"
    question: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(String(255), default="")
    symbol: Mapped[str] = mapped_column(String(16), index=True)
    asset_name: Mapped[str] = mapped_column(String(128))  # as the lines name it
    kind: Mapped[str] = mapped_column(String(16))  # above | below | between | up_down | reach | dip
    threshold: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)  # the top of a between band
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # True: resolved Yes (Up); False: No (Down); None while open or undecided.
    outcome: Mapped[bool | None] = mapped_column(Boolean)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MarketSnapshotRow(Base):
    """The market's implied probability, volume and liquidity at one cycle, with the engine's beside it."""

    __tablename__ = "prediction_market_snapshots"
    __table_args__ = (Index("ix_prediction_market_snapshots_market_seen", "market_id", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[str] = mapped_column(ForeignKey("prediction_markets.market_id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    implied_probability: Mapped[float] = mapped_column(Float)  # the crowd's P(Yes / Up)
    volume: Mapped[float] = mapped_column(Float)
    liquidity: Mapped[float] = mapped_column(Float)
    comparable: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)  # why (not) comparable, in words
    engine_probability: Mapped[float | None] = mapped_column(Float)  # the engine's P(Yes / Up), when comparable
    signal_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    horizon_hours: Mapped[float | None] = mapped_column(Float)
    line: Mapped[str] = mapped_column(Text)  # the number-free sentence of the digest
    digest_rank: Mapped[int | None] = mapped_column(Integer)  # its place among the digest's lines; None: not shown


class MarketRunRow(Base):
    """One cycle's prediction-markets section beyond its lines: what was counted, and its note."""

    __tablename__ = "prediction_market_runs"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)  # reason (or seen/matched/shown/comparable) -> count
    note: Mapped[str | None] = mapped_column(Text)
