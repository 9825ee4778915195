"""The shell around one pure cycle: read, score (once per text), decide, persist, propose."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Mapping, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pipeline.artifacts import RunRecord, artifact_path, write_run_artifact
from pipeline.crosscheck import cross_check_polarity
from pipeline.markets import fetch_markets, settle_markets
from pipeline.news_input import read_news
from pipeline.signal_state import load_cycle_state
from pipeline.universe import current_universe
from config import Settings
from intelligence.cycle import CycleParams, mentions_by_asset, run_cycle
from intelligence.digest import Digest, build_digest
from intelligence.features import signal_features
from intelligence.sentiment.base import SentimentBackend
from intelligence.signal import Signal
from intelligence.types import Bar, BarSource, Headline, Polarity, Problem
from providers.bars import BarsError
from storage.db import Sessions
from storage.models import HeadlineRow, Run, SentimentRow, SignalRow
from trading.proposal_builder import OutcomeCode, ProposalOutcome, propose

if TYPE_CHECKING:
    from pipeline.data_sources import DataSources


class CycleError(Exception):
    """The cycle could not produce a digest at all; the run is recorded as failed with this reason."""


@dataclass(frozen=True)
class CycleReport:
    run_id: int
    digest: Digest
    signals: tuple[Signal, ...]
    proposal: ProposalOutcome  # what the cycle did about proposing a trade

    @property
    def proposal_id(self) -> int | None:
        """The proposal this cycle made; None when it made none."""
        return self.proposal.id if self.proposal.code is OutcomeCode.PROPOSED else None


def model_key(backend: SentimentBackend) -> str:
    return f"{backend.name}:{backend.version}"


def score_headlines(session: Session, backend: SentimentBackend, headlines: Sequence[Headline]) -> dict[str, Polarity]:
    """Polarity by content hash; texts already scored by this model version come from the store."""
    key = model_key(backend)
    polarity = cached_scores(session, key, headlines)
    scored = score_missing(backend, headlines, polarity)
    store_scores(session, key, scored)
    polarity.update(scored)
    return polarity


def cached_scores(session: Session, key: str, headlines: Sequence[Headline]) -> dict[str, Polarity]:
    """The stored polarity of each of `headlines` this model version already scored, by content hash."""
    wanted = {h.content_hash for h in headlines}
    # Plain columns, not ORM objects: a replay looks up tens of thousands of scores at once.
    cached = session.execute(
        select(SentimentRow.content_hash, SentimentRow.positive, SentimentRow.negative, SentimentRow.neutral)
        .where(SentimentRow.model == key, SentimentRow.content_hash.in_(wanted))
    )
    return {content_hash: Polarity(positive, negative, neutral) for content_hash, positive, negative, neutral in cached}


def score_missing(backend: SentimentBackend, headlines: Sequence[Headline], known: Mapping[str, Polarity]) -> dict[str, Polarity]:
    """The model's polarity of each text not in `known`, once per text."""
    missing = {h.content_hash: h.title for h in headlines if h.content_hash not in known}
    return dict(zip(missing, backend.score(list(missing.values()))))


def store_scores(session: Session, key: str, scored: Mapping[str, Polarity]) -> None:
    """Store new scores, leaving alone any that another writer stored meanwhile (same text, same model)."""
    if not scored:
        return
    taken = set(session.scalars(select(SentimentRow.content_hash)
                                .where(SentimentRow.model == key, SentimentRow.content_hash.in_(scored))))
    new = [{"content_hash": h, "model": key, "label": p.label, "positive": p.positive, "negative": p.negative,
            "neutral": p.neutral} for h, p in scored.items() if h not in taken]
    if new:  # one multi-row INSERT rather than an ORM object per score
        session.execute(insert(SentimentRow), new)


def _store_headlines(session: Session, headlines: Sequence[Headline], run_id: int) -> None:
    by_id = {h.id: h for h in headlines}
    known = set(session.scalars(select(HeadlineRow.id).where(HeadlineRow.id.in_(by_id))))
    new = [
        {"id": h.id, "content_hash": h.content_hash, "source": h.source, "title": h.title, "summary": h.summary,
         "url": h.url, "published_at": h.published, "first_run_id": run_id, "symbols": list(h.symbols) or None}
        for h in by_id.values() if h.id not in known
    ]
    if new:
        session.execute(insert(HeadlineRow), new)


def _load_bars(market: BarSource, symbols: Sequence[str],
               as_of: datetime) -> tuple[dict[str, list[Bar]], dict[str, timedelta], list[Problem]]:
    """Each asset's bars in its own interval (coins hourly around the clock, stocks daily by session);
    an asset without bars is a problem of this cycle, not the end of it."""
    bars, problems, intervals = {}, [], {}
    for symbol in symbols:
        try:
            series = market.bars_until(symbol, as_of)
        except BarsError as exc:
            problems.append(Problem(f"{symbol} bars", str(exc)))
            continue
        bars[symbol] = list(series.bars)
        intervals[symbol] = series.interval
        problems.extend(series.problems)
    return bars, intervals, problems


def _signal_row(signal: Signal, run_id: int, evidence: str, bars_per_horizon: float) -> SignalRow:
    return SignalRow(
        run_id=run_id, symbol=signal.symbol, as_of=signal.as_of, direction=signal.direction.value,
        probability=signal.probability, conviction=signal.conviction,
        horizon_hours=signal.horizon / timedelta(hours=1), narrative_score=signal.narrative.score,
        price_score=signal.price.score, divergence=signal.divergence, reason_codes=list(signal.reason_codes),
        evidence=evidence, features=signal_features(signal, bars_per_horizon),
    )


def _write_artifact(settings: Settings, record: RunRecord) -> Problem | None:
    """The numbers behind the digest; failing to write them degrades the run, it does not stop it."""
    try:
        write_run_artifact(settings.artifacts_dir, record)
    except (OSError, ValueError) as exc:
        return Problem("artifacts", f"could not write {artifact_path(settings.artifacts_dir, record.run_id)}: {exc}")
    return None


def run_once(settings: Settings, sessions: Sessions, backend: SentimentBackend, backend_problems: Sequence[Problem],
             market: BarSource, now: datetime, sources: "DataSources | None" = None,
             symbols: Sequence[str] | None = None) -> CycleReport:
    """One cycle; `sources` None reads the feed files of TB_FEEDS_DIR (the snapshot), else the configured providers.
    `symbols` None reads the stored watchlist (pipeline/universe.py), else just these symbols."""
    with sessions.begin() as session:
        run = Run(started_at=now, status="running", sentiment_backend=backend.name, problems=[])
        session.add(run)
        session.flush()
        run_id = run.id
    stored = False
    try:
        report = _cycle(settings, sessions, backend, list(backend_problems), market, now, run_id, sources, symbols)
        stored = True
        return report
    except Exception as exc:
        with sessions.begin() as session:
            failed = session.get_one(Run, run_id)
            failed.status, failed.finished_at = "failed", now
            failed.problems = [f"{exc.__class__.__name__}: {exc}"]
        raise
    finally:
        if sources is not None:  # feed validators are kept only once their headlines are stored
            sources.settle(stored)


def _cycle(settings: Settings, sessions: Sessions, backend: SentimentBackend, problems: list[Problem],
           market: BarSource, now: datetime, run_id: int, sources: "DataSources | None",
           only: Sequence[str] | None = None) -> CycleReport:
    news = read_news(settings, sessions, sources, now)
    feeds = news.batch
    problems.extend(feeds.problems)
    if news.as_of is None:
        raise CycleError("no headlines could be read: " + "; ".join(map(str, feeds.problems)))
    as_of = news.as_of
    universe = current_universe(settings, sessions, only)  # the stored watchlist: /watch and /unwatch count
    problems.extend(universe.problems)
    assets = list(universe.assets)
    symbols = [a.symbol for a in assets]
    mentions = mentions_by_asset(assets, feeds.headlines)
    relevant = list({m.headline.content_hash: m.headline for found in mentions.values() for m in found}.values())
    bars, intervals, bar_problems = _load_bars(market, symbols, as_of)
    problems.extend(bar_problems)
    if not feeds.headlines and not bars:  # live: as-of is now, but with neither story nor tape there is no cycle
        raise CycleError("no headlines and no bars could be read: " + "; ".join(map(str, problems)))
    params = CycleParams(
        half_life=timedelta(hours=settings.half_life_hours),
        window=timedelta(hours=settings.narrative_window_hours),
        horizon=timedelta(hours=settings.horizon_hours),
        burst_window=timedelta(hours=settings.hype_window_hours),
    )
    # The store is read, then written in short transactions: the model, Claude and the artifact work
    # with no write lock held, so chat commands and other writers never wait on a cycle for long.
    # Should the process stop part-way, what is written is self-contained (headlines, the score cache,
    # Claude's verdicts) and the run stays "running" until serve marks it interrupted.
    key = model_key(backend)
    markets = fetch_markets(settings, sessions, now)  # network: before any write transaction
    with sessions() as session:
        polarity = cached_scores(session, key, relevant)
        state = load_cycle_state(session, market, symbols, as_of, settings.divergence_history,
                                 settings.calibration_min_outcomes, params.horizon)
    scored = score_missing(backend, relevant, polarity)
    polarity.update(scored)
    with sessions.begin() as session:
        _store_headlines(session, (*feeds.headlines, *news.held_back), run_id)
        store_scores(session, key, scored)
    # Claude nudges the polarity of each asset's top headlines when a key is set; a failure degrades the run.
    checked = cross_check_polarity(settings, sessions, mentions, polarity, key, as_of, now, run_id)
    polarity = checked.polarity
    problems.extend(checked.problems)
    outcome = run_cycle(as_of, assets, mentions, polarity, bars, intervals, params, state)
    problems.extend(outcome.problems)
    with sessions.begin() as session:  # the markets read against the calls, and their snapshots stored
        settled = settle_markets(markets, session, run_id, assets, outcome.signals, settings)
    problems.extend(settled.problems)
    digest = build_digest(outcome.signals, as_of, backend.name, len(feeds.headlines), [str(p) for p in problems],
                          names=universe.names())
    evidence = {item.symbol: item.evidence for item in digest.items}
    per_horizon = {s.symbol: s.horizon / intervals[s.symbol] for s in outcome.signals}
    artifact_problem = _write_artifact(settings, RunRecord(
        run_id, as_of, backend.name, len(feeds.headlines), params, outcome.signals, evidence, per_horizon,
        state.calibrator, [str(p) for p in problems], settled.artifact))
    if artifact_problem is not None:
        problems.append(artifact_problem)
        digest = replace(digest, problems=tuple(str(p) for p in problems))
    # The run's result in one transaction: its signals, its proposal and its status, all or nothing.
    with sessions.begin() as session:
        rows = {s.symbol: _signal_row(s, run_id, evidence[s.symbol], per_horizon[s.symbol]) for s in outcome.signals}
        session.add_all(rows.values())
        session.flush()
        proposal = propose(session, settings, outcome.signals, rows, intervals, now)
        run = session.get_one(Run, run_id)
        run.as_of, run.finished_at, run.headline_count = as_of, now, len(feeds.headlines)
        run.status = "degraded" if problems else "ok"
        run.problems = [str(p) for p in problems]
    digest = replace(digest, as_of_basis=news.as_of_basis, prediction_markets=settled.section)
    return CycleReport(run_id, digest, outcome.signals, proposal)
