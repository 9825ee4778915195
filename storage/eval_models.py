"""What the market did after each stored signal, once its horizon has passed (one row per signal)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class OutcomeRow(Base):
    __tablename__ = "signal_outcomes"

    # One outcome per signal: the bars after a horizon do not change, so neither does its outcome.
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    hit: Mapped[bool] = mapped_column(Boolean)
    realized_return: Mapped[float] = mapped_column(Float)  # log return in the signal's direction
    mfe: Mapped[float] = mapped_column(Float)  # maximum favourable excursion (log return, >= 0)
    mae: Mapped[float] = mapped_column(Float)  # maximum adverse excursion (log return, <= 0)
    entry_time: Mapped[datetime] = mapped_column(UTCDateTime)
    entry_price: Mapped[float] = mapped_column(Float)
    exit_time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    exit_price: Mapped[float] = mapped_column(Float)
