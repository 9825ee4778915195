"""Tables of the universe: the operators' changes to the watchlist and the assets looked up at the broker."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class WatchlistRow(Base):
    """One symbol an operator watched or unwatched; the watchlist is TB_UNIVERSE with these applied.

    Kept as changes rather than as the whole list, so that a later edit of TB_UNIVERSE still counts and
    an operator's /watch or /unwatch is never lost to it."""

    __tablename__ = "watchlist"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    watched: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(128))


class AssetLookupRow(Base):
    """A US symbol the catalogue lacked, as the broker described it (Alpaca's /v2/assets/{symbol})."""

    __tablename__ = "asset_lookups"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    asset_class: Mapped[str] = mapped_column(String(16))  # ours: us_equity or crypto
    exchange: Mapped[str] = mapped_column(String(32))
    tradable: Mapped[bool] = mapped_column(Boolean)
    fractionable: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    looked_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
