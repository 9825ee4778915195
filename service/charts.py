"""`chart SYMBOL` and chat's /chart: the data behind one asset's picture, from the store and the market data.

`symbol_chart(settings, sessions, "ETH", now)` returns the PNG and a caption, or raises ChartError
with one line to show the user (an unknown symbol, nothing stored for it yet, no bars). It blocks
(store, bars, drawing): chat calls it in a worker thread.

What it reads: the symbol's stored signals up to `now`; the stored headlines that speak about the
asset (intelligence/relevance.py, as the cycle decides) with the sentiment stored for them; the bars
of the configured market data. The window ends at the latest call (or, without one, the latest
headline about the asset) and spans `days` before it. The narrative line is the score a cycle would
have computed at each bar's close from those headlines (intelligence/narrative_path.py).
"""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from eval.charts import ChartData, ChartSignal, chart_png
from intelligence.assets import Catalogue
from intelligence.narrative_path import JUST_BEFORE, NarrativeParams, movers, narrative_path
from intelligence.relevance import Mention, relevant_headlines
from intelligence.types import Asset, Bar, Polarity
from pipeline.data_sources import build_data_sources
from pipeline.news_input import recent_headlines
from pipeline.universe import catalogue_for, watchlist
from providers.bars import BarsError
from storage.db import Sessions
from storage.models import HeadlineRow, SentimentRow, SignalRow

DEFAULT_DAYS = 7.0
MAX_DAYS = 90.0
LOOK_BACK = timedelta(days=30)  # without any call, a headline about the asset is looked for this far before the newest
MOVERS = 3
# pyplot keeps global state (its figure list, the rcParams a style context sets): chat draws in worker
# threads, so two /chart at once take turns at the drawing, not at gathering the data.
_DRAWING = threading.Lock()


class ChartError(Exception):
    """Why no chart can be drawn, in one line for the user."""


class UnknownSymbol(ChartError):
    """The symbol is not in the catalogue (a typo, most often): the user's input, not missing data."""


@dataclass(frozen=True)
class SymbolChart:
    symbol: str
    png: bytes
    caption: str  # a few plain lines, short enough for a Telegram photo caption (1024 characters)
    start: datetime
    end: datetime
    data: ChartData


def find_asset(symbol: str, catalogue: Catalogue) -> Asset:
    wanted = symbol.strip().upper()
    if wanted in catalogue:
        return catalogue[wanted]
    close = catalogue.nearest(wanted)
    hint = f"; did you mean {', '.join(close)}?" if close else " (`assets --search` lists the catalogue)"
    raise UnknownSymbol(f"unknown symbol {symbol.strip()!r}{hint}")


def symbol_chart(settings: Settings, sessions: Sessions, symbol: str, now: datetime,
                 days: float = DEFAULT_DAYS) -> SymbolChart:
    if not 0 < days <= MAX_DAYS:
        raise ChartError(f"days must be more than 0 and at most {MAX_DAYS:g}, got {days:g}")
    asset = find_asset(symbol, catalogue_for(settings, sessions))
    watched = watchlist(settings, sessions)
    params = NarrativeParams(timedelta(hours=settings.half_life_hours),
                             timedelta(hours=settings.narrative_window_hours), timedelta(hours=settings.hype_window_hours))
    with sessions() as session:
        end = _window_end(session, asset, now, watched)
        start = end - timedelta(days=days)
        # The narrative at the window's start needs the headlines of one narrative window before it.
        mentions = relevant_headlines(asset, recent_headlines(session, start - params.window, end))
        polarity = _stored_polarity(session, mentions)
        signals = _signals(session, asset.symbol, start, end)
    bars, interval = _bars(settings, sessions, asset.symbol, start, end, now)
    scored = [m for m in mentions if m.headline.content_hash in polarity]
    # At each bar's close, at each call, and just before and at each arrival: the line passes through the
    # calls and jumps where a headline moved it.
    arrivals = {m.headline.published for m in scored if start <= m.headline.published <= end}
    times = sorted({b.start + interval for b in bars} | {s.as_of for s in signals} | arrivals
                   | {t - JUST_BEFORE for t in arrivals})
    data = ChartData(asset.symbol, asset.name, start, end, bars, interval, times,
                     narrative_path(scored, polarity, times, params), signals,
                     movers(scored, polarity, start, end, params, MOVERS))
    with _DRAWING:
        png = chart_png(data)
    return SymbolChart(asset.symbol, png, caption(data, len(mentions) - len(scored)), start, end, data)


def _window_end(session: Session, asset: Asset, now: datetime, universe: Sequence[str]) -> datetime:
    latest = session.scalar(select(func.max(SignalRow.as_of)).where(SignalRow.symbol == asset.symbol,
                                                                    SignalRow.as_of <= now))
    if latest is not None:
        return latest
    # From the newest stored headline, not from now: the embedded snapshot is as of its own time.
    newest = session.scalar(select(func.max(HeadlineRow.published_at)).where(HeadlineRow.published_at <= now))
    about = relevant_headlines(asset, recent_headlines(session, newest - LOOK_BACK, newest)) if newest else []
    if about:
        return max(m.headline.published for m in about)
    if asset.symbol not in universe:
        raise ChartError(f"nothing stored about {asset.symbol}: it is not watched (TB_UNIVERSE, /watch) and no stored "
                         f"headline of the {LOOK_BACK.days} days before the newest names it")
    raise ChartError(f"nothing stored about {asset.symbol} yet (no signal, no headline): run a cycle first "
                     f"(tracer-bullet run --once)")


def _stored_polarity(session: Session, mentions: list[Mention]) -> dict[str, Polarity]:
    """The stored readings of these texts; where several models read them, the one that read the most."""
    hashes = list({m.headline.content_hash for m in mentions})
    rows: list[Any] = []
    for first in range(0, len(hashes), 500):  # bounded IN lists
        rows += session.execute(select(SentimentRow.content_hash, SentimentRow.model, SentimentRow.positive,
                                       SentimentRow.negative, SentimentRow.neutral)
                                .where(SentimentRow.content_hash.in_(hashes[first:first + 500]))).all()
    if not rows:
        return {}
    model = Counter(row.model for row in rows).most_common(1)[0][0]
    return {row.content_hash: Polarity(row.positive, row.negative, row.neutral) for row in rows if row.model == model}


def _signals(session: Session, symbol: str, start: datetime, end: datetime) -> list[ChartSignal]:
    rows = session.execute(select(SignalRow.as_of, SignalRow.direction, SignalRow.probability,
                                  SignalRow.narrative_score, SignalRow.features)
                           .where(SignalRow.symbol == symbol, SignalRow.as_of >= start, SignalRow.as_of <= end)
                           .order_by(SignalRow.as_of, SignalRow.id)).all()
    latest: dict[datetime, ChartSignal] = {}  # a cycle re-run at the same as-of restates its signal
    for row in rows:
        price = (row.features or {}).get("price", {}).get("last_close")
        latest[row.as_of] = ChartSignal(row.as_of, row.direction, row.probability, row.narrative_score,
                                        float(price) if isinstance(price, (int, float)) else None)
    return list(latest.values())


def _bars(settings: Settings, sessions: Sessions, symbol: str, start: datetime, end: datetime,
          now: datetime) -> tuple[list[Bar], timedelta]:
    sources = build_data_sources(settings, sessions, lambda: now)
    try:
        series = sources.market.bars_between(symbol, start, end)
    except BarsError as exc:
        raise ChartError(f"cannot chart {symbol}: {exc}") from None
    finally:
        sources.close()
    if not series.bars:
        raise ChartError(f"no bars for {symbol} between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC")
    return list(series.bars), series.interval


def caption(data: ChartData, unscored: int = 0) -> str:
    """What the picture shows, in words: the window, the calls, the latest one, the strongest headline."""
    calls = data.calls
    lines = [f"{data.symbol} ({data.name}), {data.start:%d %b %H:%M} to {data.end:%d %b %H:%M} UTC: price above, "
             f"news score below."]
    if calls:
        buys = sum(1 for c in calls if c.direction == "BUY")
        last = calls[-1]
        chance = f" at {last.probability:.0%}" if last.probability is not None else ""
        lines.append(f"{len(calls)} call{'s' if len(calls) != 1 else ''} ({buys} buy, {len(calls) - buys} sell); "
                     f"latest {last.direction}{chance} on {last.as_of:%d %b %H:%M}.")
    else:
        lines.append("No buy or sell call in this window.")
    holds = len(data.holds)
    if holds:
        shown = "" if data.holds_marked else " (too many to mark)"
        lines.append(f"{holds} cycle{'s' if holds != 1 else ''} held: no trade{shown}.")
    if data.movers:
        top = max(data.movers, key=lambda m: abs(m.move))
        lines.append(f"Biggest move of the story: {top.source}, {top.published:%d %b %H:%M} "
                     f"({'up' if top.move >= 0 else 'down'} {abs(top.move):.2f}).")
    if unscored:
        lines.append(f"{unscored} headline{'s' if unscored != 1 else ''} without a stored score left out.")
    return "\n".join(lines)
