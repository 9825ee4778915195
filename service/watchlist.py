"""The watchlist from chat or the shell: what it is now, watch a symbol, unwatch one. Plain Python returning data.

Readers may see the watchlist; only operators may change it: the command table checks the role
before it calls `watch` or `unwatch` (this module trusts its caller on that). A symbol must be in the
asset catalogue (with Alpaca keys, a US symbol the catalogue lacks is looked up and remembered first);
otherwise the answer names the nearest known symbols. Each change is stored (pipeline/universe.py:
the next cycle reads it) and appended to the audit chain in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy.orm import Session

from config import Settings
from intelligence.assets import Catalogue
from pipeline.universe import AssetLookup, alpaca_lookup, catalogue_for, look_up, watchlist_symbols
from storage.db import Sessions
from storage.universe_models import WatchlistRow
from trading import audit
from trading.rows import insert_missing

Clock = Callable[[], datetime]
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-/]{0,19}")


@dataclass(frozen=True)
class WatchedAsset:
    symbol: str
    name: str
    asset_class: str  # crypto, us_equity, etf; "unknown" when the catalogue no longer has it
    origin: str  # "TB_UNIVERSE" (the starting list) or "watched by <actor>"


@dataclass(frozen=True)
class WatchlistView:
    assets: tuple[WatchedAsset, ...]

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(a.symbol for a in self.assets)


@dataclass(frozen=True)
class WatchResult:
    """What watch or unwatch did, for any channel to render: a reason code and a plain message."""

    ok: bool  # False: refused, nothing changed
    code: str  # OK, ALREADY_WATCHED, NOT_WATCHED, UNKNOWN_SYMBOL, BAD_SYMBOL, LAST_SYMBOL, LOOKUP_FAILED
    message: str
    watchlist: WatchlistView  # as it is after the call
    nearest: tuple[str, ...] = ()  # for UNKNOWN_SYMBOL and NOT_WATCHED: what was perhaps meant

    @property
    def changed(self) -> bool:
        return self.ok and self.code == "OK"


class WatchlistService:
    def __init__(self, settings: Settings, sessions: Sessions, clock: Clock,
                 lookup: AssetLookup | None = None, use_alpaca: bool = True) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        # With Alpaca keys the broker is asked about symbols the catalogue lacks (built on first need).
        self._lookup = lookup
        self._use_alpaca = use_alpaca and lookup is None

    def current(self) -> WatchlistView:
        catalogue = catalogue_for(self._settings, self._sessions)
        with self._sessions() as session:
            return self._view(session, catalogue)

    def watch(self, symbol: str, actor: str) -> WatchResult:
        wanted = _normal(symbol)
        if wanted is None:
            return self._refused("BAD_SYMBOL", f"{symbol.strip()[:40]!r} is not a symbol (e.g. BTC, AAPL, SPY).")
        catalogue = catalogue_for(self._settings, self._sessions)
        if wanted not in catalogue:
            found = self._looked_up(wanted)
            if isinstance(found, WatchResult):
                return found
            if not found:
                nearest = tuple(catalogue.nearest(wanted))
                hint = f" Nearest known: {', '.join(nearest)}." if nearest else ""
                return self._refused("UNKNOWN_SYMBOL", f"{wanted} is not in the asset catalogue.{hint}", nearest)
            catalogue = catalogue_for(self._settings, self._sessions)
        asset = catalogue[wanted]
        now = self._clock()
        with self._sessions.begin() as session:
            if wanted in watchlist_symbols(session, self._settings.universe):
                return WatchResult(True, "ALREADY_WATCHED", f"{wanted} ({asset.name}) is already on the watchlist.",
                                   self._view(session, catalogue))
            _record(session, wanted, True, actor, now)
            audit.append(session, actor, "watchlist.watch",
                         {"symbol": wanted, "name": asset.name, "asset_class": asset.asset_class}, now)
            view = self._view(session, catalogue)
        return WatchResult(True, "OK", f"{wanted} ({asset.name}) is on the watchlist from the next cycle on.", view)

    def unwatch(self, symbol: str, actor: str) -> WatchResult:
        wanted = _normal(symbol)
        if wanted is None:
            return self._refused("BAD_SYMBOL", f"{symbol.strip()[:40]!r} is not a symbol (e.g. BTC, AAPL, SPY).")
        catalogue = catalogue_for(self._settings, self._sessions)
        now = self._clock()
        with self._sessions.begin() as session:
            symbols = watchlist_symbols(session, self._settings.universe)
            if wanted not in symbols:
                nearest = tuple(Catalogue([catalogue[s] for s in symbols if s in catalogue]).nearest(wanted))
                hint = f" Did you mean {', '.join(nearest)}?" if nearest else ""
                return WatchResult(False, "NOT_WATCHED", f"{wanted} is not on the watchlist.{hint}",
                                   self._view(session, catalogue), nearest)
            if symbols == [wanted]:
                return WatchResult(False, "LAST_SYMBOL", f"{wanted} is the only symbol on the watchlist; watch another "
                                   "one first (a cycle needs at least one asset).", self._view(session, catalogue))
            _record(session, wanted, False, actor, now)
            audit.append(session, actor, "watchlist.unwatch", {"symbol": wanted}, now)
            view = self._view(session, catalogue)
        return WatchResult(True, "OK", f"{wanted} is off the watchlist from the next cycle on.", view)

    def _looked_up(self, symbol: str) -> bool | WatchResult:
        """Whether the broker knows the symbol (and it is now remembered); a WatchResult when it cannot say."""
        from providers.alpaca_assets import LookupFailed

        if self._lookup is None and self._use_alpaca:
            self._lookup, self._use_alpaca = alpaca_lookup(self._settings), False
        if self._lookup is None:
            return False
        try:
            return look_up(self._sessions, self._lookup, symbol, self._clock()) is not None
        except LookupFailed as exc:
            return self._refused("LOOKUP_FAILED", f"{symbol} is not in the asset catalogue and Alpaca could not be "
                                                  f"asked about it: {exc}")

    def _refused(self, code: str, message: str, nearest: tuple[str, ...] = ()) -> WatchResult:
        return WatchResult(False, code, message, self.current(), nearest)

    def _view(self, session: Session, catalogue: Catalogue) -> WatchlistView:
        changes = {row.symbol: row for row in session.query(WatchlistRow)}
        assets = []
        for symbol in watchlist_symbols(session, self._settings.universe):
            asset = catalogue.get(symbol)
            row = changes.get(symbol)
            origin = f"watched by {row.changed_by}" if row is not None and row.watched else "TB_UNIVERSE"
            assets.append(WatchedAsset(symbol, asset.name if asset else symbol,
                                       asset.asset_class if asset else "unknown", origin))
        return WatchlistView(tuple(assets))


def _normal(symbol: str) -> str | None:
    wanted = symbol.strip().lstrip("$").upper()
    return wanted if _SYMBOL.fullmatch(wanted) else None


def _record(session: Session, symbol: str, watched: bool, actor: str, now: datetime) -> None:
    actor = actor[:128]
    insert_missing(session, WatchlistRow, symbol=symbol, watched=watched, changed_at=now, changed_by=actor)
    row = session.get_one(WatchlistRow, symbol, populate_existing=True)
    row.watched, row.changed_at, row.changed_by = watched, now, actor
