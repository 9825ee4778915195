"""The universe a cycle reads: the catalogue (shipped, remembered broker lookups, the user's file) and
the watchlist (TB_UNIVERSE with the operators' /watch and /unwatch applied, kept in the store).

TB_UNIVERSE is the starting list. An operator's change is stored per symbol, so it survives restarts
and a later edit of TB_UNIVERSE alike: the watchlist is TB_UNIVERSE, then every symbol an operator
watched, less every symbol an operator unwatched.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from intelligence.assets import Catalogue
from intelligence.types import Asset, Problem
from providers.catalogue import CatalogueError, catalogue_in_force, load_catalogue, use_catalogue
from storage.db import Sessions
from storage.universe_models import AssetLookupRow, WatchlistRow

if TYPE_CHECKING:
    from providers.alpaca_assets import LookedUp

WHERE = "universe"


class AssetLookup(Protocol):
    """The broker's answer for a symbol the catalogue lacks (providers/alpaca_assets.py)."""

    def lookup(self, symbol: str) -> "LookedUp | None": ...


@dataclass(frozen=True)
class Universe:
    catalogue: Catalogue
    symbols: tuple[str, ...]  # the watchlist, in order
    assets: tuple[Asset, ...]  # the watchlist's assets the catalogue knows
    problems: tuple[Problem, ...]  # symbols on the watchlist the catalogue no longer knows

    def names(self) -> dict[str, str]:
        return {a.symbol: a.name for a in self.assets}


def asset_name(symbol: str) -> str:
    """The display name of a symbol in the catalogue in force (the symbol itself when it has none)."""
    return catalogue_in_force().name(symbol)


def remembered_assets(session: Session) -> list[Asset]:
    from providers.alpaca_assets import LookedUp

    rows = session.scalars(select(AssetLookupRow).order_by(AssetLookupRow.symbol))
    return [LookedUp(r.symbol, r.name, r.asset_class, r.exchange, r.tradable, r.fractionable, r.status).asset()
            for r in rows]


def catalogue_for(settings: Settings, sessions: Sessions | None = None) -> Catalogue:
    """The catalogue of these settings (and of this store's remembered lookups); it is also put in force
    for the trading room's questions by symbol (providers/catalogue.py)."""
    remembered: list[Asset] = []
    if sessions is not None:
        with sessions() as session:
            remembered = remembered_assets(session)
    catalogue = load_catalogue(settings.assets_file, remembered)
    use_catalogue(catalogue)
    return catalogue


def watchlist_symbols(session: Session, start: Sequence[str]) -> list[str]:
    """TB_UNIVERSE, then what operators watched (oldest first), less what they unwatched."""
    rows = list(session.scalars(select(WatchlistRow).order_by(WatchlistRow.changed_at, WatchlistRow.symbol)))
    unwatched = {r.symbol for r in rows if not r.watched}
    symbols = [s for s in start if s not in unwatched]
    symbols += [r.symbol for r in rows if r.watched and r.symbol not in symbols]
    return symbols


def watchlist(settings: Settings, sessions: Sessions) -> list[str]:
    """The watchlist now: what the next cycle reads."""
    with sessions() as session:
        return watchlist_symbols(session, settings.universe)


def current_universe(settings: Settings, sessions: Sessions, only: Sequence[str] | None = None) -> Universe:
    """What the next cycle reads: the stored watchlist's assets (or just `only`, e.g. those whose market is
    open); a symbol the catalogue no longer knows (its line left TB_ASSETS_FILE) is skipped and said."""
    catalogue = catalogue_for(settings, sessions)
    symbols = list(only) if only is not None else watchlist(settings, sessions)
    known = [catalogue[s] for s in symbols if s in catalogue]
    missing = [s for s in symbols if s not in catalogue]
    problems = [Problem(WHERE, f"{s} is on the watchlist but not in the asset catalogue; skipped "
                               f"(nearest known: {', '.join(catalogue.nearest(s)) or 'none'})") for s in missing]
    return Universe(catalogue, tuple(symbols), tuple(known), tuple(problems))


def remember(session: Session, found: "LookedUp", now: datetime) -> None:
    row = session.get(AssetLookupRow, found.symbol)
    if row is None:
        row = AssetLookupRow(symbol=found.symbol)
        session.add(row)
    row.name, row.asset_class, row.exchange = found.name or found.symbol, found.asset_class, found.exchange
    row.tradable, row.fractionable, row.status, row.looked_up_at = found.tradable, found.fractionable, found.status, now


def alpaca_lookup(settings: Settings) -> AssetLookup | None:
    """The broker's asset lookup when Alpaca keys are set, else None (the catalogue is all there is)."""
    if settings.alpaca_key is None or settings.alpaca_secret is None:
        return None
    from providers.alpaca_assets import AlpacaAssetLookup
    from providers.alpaca_data import AlpacaAccess

    access = AlpacaAccess(settings.alpaca_key.get_secret_value(), settings.alpaca_secret.get_secret_value(),
                          settings.alpaca_data_url, settings.provider_connect_timeout_seconds,
                          settings.provider_read_timeout_seconds)
    return AlpacaAssetLookup(access, paper=settings.trading_mode != "live", trading_url=settings.alpaca_trading_url)


def look_up(sessions: Sessions, lookup: AssetLookup, symbol: str, now: datetime) -> Asset | None:
    """Ask the broker for a symbol and remember the answer; None when it knows no such symbol.
    Raises providers.alpaca_assets.LookupFailed when it cannot be asked."""
    found = lookup.lookup(symbol)
    if found is None:
        return None
    with sessions.begin() as session:
        remember(session, found, now)
    return found.asset()


def check_universe(settings: Settings | None, symbols: Sequence[str]) -> list[str]:
    """TB_UNIVERSE against the catalogue, for config.load_settings: one line per problem, naming the variable.

    With Alpaca keys, a symbol the catalogue lacks is looked up (and remembered) before it is called unknown."""
    assets_file = settings.assets_file if settings is not None else None
    try:
        catalogue = load_catalogue(assets_file)
    except CatalogueError as exc:
        return [f"TB_ASSETS_FILE: {exc}" if assets_file is not None and str(assets_file) in str(exc)
                else f"asset catalogue: {exc}"]
    unknown = [s for s in dict.fromkeys(symbols) if s not in catalogue]
    if not unknown:
        use_catalogue(catalogue)
        return []
    problems: list[str] = []
    if settings is not None and settings.alpaca_key is not None and settings.alpaca_secret is not None:
        unknown, problems = _look_up_unknown(settings, unknown)
    if unknown:
        nearest = {s: ", ".join(catalogue.nearest(s)) or "none" for s in unknown}
        problems += [f"TB_UNIVERSE: unknown symbol {s} (nearest known: {nearest[s]}); "
                     "`tracer_bullet.py assets --search TEXT` lists the catalogue" for s in unknown]
    return problems


def _look_up_unknown(settings: Settings, unknown: list[str]) -> tuple[list[str], list[str]]:
    from providers.alpaca_assets import LookupFailed
    from storage.db import open_store

    sessions = open_store(settings.database_url)
    catalogue = catalogue_for(settings, sessions)
    still = [s for s in unknown if s not in catalogue]
    lookup = alpaca_lookup(settings)
    assert lookup is not None
    missing, problems = [], []
    from datetime import timezone

    now = datetime.now(timezone.utc)
    for symbol in still:
        try:
            if look_up(sessions, lookup, symbol, now) is None:
                missing.append(symbol)
        except LookupFailed as exc:
            problems.append(f"TB_UNIVERSE: {symbol} is not in the asset catalogue and Alpaca could not be asked: {exc}")
    catalogue_for(settings, sessions)
    return missing, problems
