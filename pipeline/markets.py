"""The cycle's prediction-markets step (TB_POLYMARKET=on): fetch, then read, match, store and summarise.

Two halves, because the network never runs inside the cycle's write transaction:

- `fetch_markets` (before the transaction): the open events of the configured Gamma tags that end
  within LOOKAHEAD of now, and the markets seen before whose end has passed (to learn how they
  resolved), through one circuit breaker whose state is kept in the store like every provider's.
- `settle_markets` (inside it, no network): the pure reading of intelligence/prediction_markets.py
  against this cycle's signals, one snapshot row per matched market, outcomes of resolved ones,
  the digest section as data and the artifact's rows.

A failed fetch is a Problem naming Polymarket (the run is degraded, the digest still goes out).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from config import Settings
from intelligence.prediction_markets import (
    STALE_CALL, MarketLine, MarketQuote, MarketsRead, PredictionMarketsSection, read_markets, resolution, section,
)
from intelligence.signal import Signal
from intelligence.types import Asset, Problem
from storage.db import Sessions
from storage.market_models import MarketRunRow, MarketSnapshotRow, PredictionMarketRow

if TYPE_CHECKING:  # the client and httpx load only when TB_POLYMARKET is on
    import httpx

SOURCE = "polymarket"
# Markets resolving within a week: the engine's horizon is a day, and the crowd's view of the week is context.
LOOKAHEAD = timedelta(days=7)
# Outcomes looked up per cycle: a backlog after an outage drains over a few cycles.
MAX_RESOLUTIONS = 200
# A market still unsettled this long after its end (voided, disputed) is no longer asked about, so it
# cannot hold the look-ups of newer ones forever.
RESOLUTION_WINDOW = timedelta(days=30)
LIVE_ONLY_NOTE = ("The markets are read live; this run's calls are as of an earlier snapshot, so none is set "
                  "beside the crowd.")


@dataclass
class MarketFetch:
    seen_at: datetime
    quotes: list[MarketQuote] = field(default_factory=list)
    resolved: list[MarketQuote] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # "malformed: <why>" -> count
    skipped_examples: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    truncated: bool = False


@dataclass(frozen=True)
class MarketsOutcome:
    section: PredictionMarketsSection | None
    artifact: dict[str, Any] | None
    problems: tuple[Problem, ...] = ()


def fetch_markets(settings: Settings, sessions: Sessions, now: datetime,
                  transport: "httpx.BaseTransport | None" = None) -> MarketFetch | None:
    """None when TB_POLYMARKET is off; else what Gamma answered, with any failure as a Problem."""
    if not settings.polymarket:
        return None
    from pipeline.provider_store import load_breakers, save_breakers
    from providers.circuit import CircuitBreaker
    from providers.polymarket import BREAKER, GammaClient, MarketQuery

    breaker = CircuitBreaker(BREAKER, settings.breaker_failures, timedelta(seconds=settings.breaker_cooldown_seconds),
                             lambda: now, load_breakers(sessions).get(BREAKER))
    client = GammaClient(settings.polymarket_base_url, settings.provider_connect_timeout_seconds,
                         settings.provider_read_timeout_seconds, breaker, transport)
    fetched = MarketFetch(now)
    try:
        seen: set[str] = set()
        for tag in settings.polymarket_tags:
            batch = client.events(MarketQuery(active=True, closed=False, tag_slug=tag, end_date_min=now,
                                              end_date_max=now + LOOKAHEAD, order="volume", ascending=False))
            fetched.quotes += [q for q in batch.quotes if q.market_id not in seen]
            seen.update(q.market_id for q in batch.quotes)
            _note_skipped(fetched, batch.skipped)
            fetched.problems += batch.problems
            fetched.truncated |= batch.truncated
            if batch.problems:
                break
        waiting = [] if fetched.problems else _unresolved(sessions, now)
        if waiting:
            batch = client.markets_by_id(waiting)
            fetched.resolved = batch.quotes
            _note_skipped(fetched, batch.skipped)
            fetched.problems += batch.problems
    finally:
        client.close()
        save_breakers(sessions, [breaker.snapshot()], now)
    return fetched


def _note_skipped(fetched: MarketFetch, skipped: Sequence[Any]) -> None:
    for item in skipped:
        fetched.skipped[f"malformed: {item.reason}"] += 1
        if len(fetched.skipped_examples) < 10:
            fetched.skipped_examples.append(f"market {item.market_id}: {item.reason}")


def _unresolved(sessions: Sessions, now: datetime) -> list[str]:
    with sessions() as session:
        return list(session.scalars(
            select(PredictionMarketRow.market_id)
            .where(PredictionMarketRow.outcome.is_(None), PredictionMarketRow.end_at <= now,
                   PredictionMarketRow.end_at >= now - RESOLUTION_WINDOW)
            .order_by(PredictionMarketRow.end_at).limit(MAX_RESOLUTIONS)))


def settle_markets(fetched: MarketFetch | None, session: Session, run_id: int, assets: Sequence[Asset],
                   signals: Sequence[Signal], settings: Settings) -> MarketsOutcome:
    """Read the fetched markets against this cycle's signals and store what was seen (no network here)."""
    if fetched is None:
        return MarketsOutcome(None, None)
    by_symbol = {s.symbol: s for s in signals}
    read = read_markets(fetched.quotes, assets, by_symbol, fetched.seen_at, settings.polymarket_min_liquidity,
                        settings.polymarket_min_volume)
    _store(session, read, run_id, fetched.seen_at)
    resolved = _record_outcomes(session, [*fetched.resolved, *(q for q in fetched.quotes if q.closed)], fetched.seen_at)
    extra = Counter(fetched.skipped)
    if fetched.truncated:
        extra["more pages than were read"] += 1
    note = None
    if fetched.problems:
        note = "Polymarket could not be read in full this cycle: " + "; ".join(p.message for p in fetched.problems)
    elif any(r.comparison.reason == STALE_CALL for r in read.readings) and not any(
            r.comparison.comparable for r in read.readings):
        note = LIVE_ONLY_NOTE
    digest_section = section(read, len(fetched.quotes), extra, note)
    session.add(MarketRunRow(run_id=run_id, seen_at=fetched.seen_at, counts=dict(digest_section.counts), note=note))
    artifact = _artifact(read, digest_section, fetched, resolved)
    return MarketsOutcome(digest_section, artifact, tuple(fetched.problems))


def _store(session: Session, read: MarketsRead, run_id: int, seen_at: datetime) -> None:
    """Markets upserted and one snapshot each, as multi-row statements: a cycle may see thousands of markets."""
    if not read.readings:
        return
    ids = [r.quote.market_id for r in read.readings]
    known = set(session.scalars(select(PredictionMarketRow.market_id).where(PredictionMarketRow.market_id.in_(ids))))
    rows = [{"market_id": r.quote.market_id, "question": r.quote.question, "slug": r.quote.slug[:255],
             "symbol": r.symbol, "asset_name": r.name[:128], "kind": r.question.kind.value,
             "threshold": r.question.threshold, "upper": r.question.upper, "end_at": r.quote.end,
             "last_seen_at": seen_at} for r in read.readings]
    new = [{**row, "source": SOURCE, "first_seen_at": seen_at} for row in rows if row["market_id"] not in known]
    # Core statements on the session's connection: plain executemany, no ORM bookkeeping per row.
    connection = session.connection()
    if new:
        connection.execute(insert(PredictionMarketRow), new)
    seen_before = [row for row in rows if row["market_id"] in known]
    if seen_before:  # by primary key: what a market asks may be reworded, its end moved
        session.execute(update(PredictionMarketRow), seen_before)
    rank = {r.quote.market_id: n for n, r in enumerate(read.shown, start=1)}
    connection.execute(insert(MarketSnapshotRow), [
        {"market_id": r.quote.market_id, "run_id": run_id, "seen_at": seen_at, "implied_probability": r.implied,
         "volume": r.quote.volume, "liquidity": r.quote.liquidity, "comparable": r.comparison.comparable,
         "reason": r.comparison.reason, "engine_probability": r.comparison.engine_yes,
         "signal_as_of": r.comparison.signal_as_of, "horizon_hours": r.comparison.horizon_hours, "line": r.line,
         "digest_rank": rank.get(r.quote.market_id)}
        for r in read.readings])


def _record_outcomes(session: Session, quotes: Sequence[MarketQuote], now: datetime) -> dict[str, bool]:
    """Outcomes of markets this store has seen; a market's outcome, once stored, is not changed."""
    outcomes = {q.market_id: o for q in quotes if (o := resolution(q)) is not None}
    if not outcomes:
        return {}
    recorded = {}
    for row in session.scalars(select(PredictionMarketRow).where(PredictionMarketRow.market_id.in_(list(outcomes)))):
        if row.outcome is None:
            row.outcome, row.resolved_at = outcomes[row.market_id], now
            recorded[row.market_id] = row.outcome
    return recorded


def _artifact(read: MarketsRead, digest_section: PredictionMarketsSection, fetched: MarketFetch,
              resolved: Mapping[str, bool]) -> dict[str, Any]:
    shown = {r.quote.market_id for r in read.shown}
    return {
        "source": digest_section.source,
        "seen_at": fetched.seen_at.isoformat(),
        "counts": dict(digest_section.counts),
        "note": digest_section.note,
        "problems": [str(p) for p in fetched.problems],
        "left_out_examples": [{"question": q, "reason": why} for q, why in read.examples],
        "malformed_examples": list(fetched.skipped_examples),
        "resolved_this_cycle": {market_id: ("yes" if yes else "no") for market_id, yes in resolved.items()},
        "markets": [
            {
                "market_id": r.quote.market_id, "question": r.quote.question, "slug": r.quote.slug,
                "event": r.quote.event_title, "symbol": r.symbol, "kind": r.question.kind.value,
                "threshold": r.question.threshold, "upper": r.question.upper, "end": r.quote.end.isoformat(),
                "implied_probability": r.implied, "volume": r.quote.volume, "liquidity": r.quote.liquidity,
                "reference_price": r.reference_price, "comparable": r.comparison.comparable,
                "comparison": r.comparison.reason, "engine_probability": r.comparison.engine_yes,
                "engine_direction": r.comparison.engine_direction,
                "engine_call_probability": r.comparison.engine_probability,
                "shown": r.quote.market_id in shown, "line": r.line,
            }
            for r in read.readings
        ],
    }


def stored_section(session: Session, run_id: int) -> PredictionMarketsSection | None:
    """A cycle's section rebuilt from the store (for /digest and /markets after the fact); None: not read then."""
    summary = session.get(MarketRunRow, run_id)
    if summary is None:
        return None
    rows = session.execute(
        select(MarketSnapshotRow, PredictionMarketRow)
        .join(PredictionMarketRow, PredictionMarketRow.market_id == MarketSnapshotRow.market_id)
        .where(MarketSnapshotRow.run_id == run_id, MarketSnapshotRow.digest_rank.is_not(None))
        .order_by(MarketSnapshotRow.digest_rank)).all()
    lines = tuple(MarketLine(market.symbol, market.asset_name, market.market_id, market.question, market.kind,
                             market.end_at, snap.comparable, snap.line) for snap, market in rows)
    return PredictionMarketsSection(lines, tuple(sorted(summary.counts.items())), note=summary.note)


PRUNE_BATCH = 5_000  # rows per transaction: a large backlog never holds the store's write lock for long


def prune_snapshots(sessions: Sessions, cutoff: datetime) -> int:
    """Delete the quotes seen before `cutoff` that no evaluation reads (not comparable with a call); the
    comparable ones stay, as the crowd-against-engine scores are computed from them once markets resolve.
    Returns how many were deleted."""
    removed = 0
    while True:
        with sessions.begin() as session:
            ids = list(session.scalars(select(MarketSnapshotRow.id).where(
                MarketSnapshotRow.seen_at < cutoff, MarketSnapshotRow.comparable.is_(False)).limit(PRUNE_BATCH)))
            if not ids:
                return removed
            session.execute(delete(MarketSnapshotRow).where(MarketSnapshotRow.id.in_(ids)))
            removed += len(ids)
