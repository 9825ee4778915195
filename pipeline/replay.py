"""The replay's work: read, score through the store's cache, walk forward, write signals.csv and replay.json."""
from __future__ import annotations

import csv
import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping, Sequence

from pipeline.artifacts import calibrator_summary
from pipeline.cycle import score_headlines
from pipeline.universe import catalogue_for
from config import Settings
from intelligence.assets import Catalogue
from intelligence.cycle import CycleParams
from intelligence.evidence import evidence_line
from intelligence.progress import SILENT, Progress
from intelligence.relevance import relevant_headlines
from intelligence.signal import Signal
from intelligence.walk_forward import WalkConfig, WalkResult, walk_forward
from providers.bars import BarsError, read_bars
from providers.replay_news import NewsError, NewsFile, read_news
from providers.sentiment_models import SentimentLoadError, load_backend
from storage.db import open_store

# Headlines per step of the relevance and sentiment stages: small enough for a progress bar that
# moves every second or so, large enough to keep the model's batches and the store's queries full.
RELEVANCE_CHUNK = 2000
SENTIMENT_CHUNK = 128
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
SIGNAL_COLUMNS = (
    "as_of", "symbol", "direction", "probability", "horizon_hours", "conviction", "narrative_score", "price_score",
    "divergence", "reason_codes", "headline_count", "sources", "headlines_seen", "divergence_short",
    "divergence_mid", "divergence_long", "price_short", "price_mid", "price_long", "trigger", "probability_method",
    "prior_probability", "calibration_outcomes", "base_rate", "edge", "evidence",
)


def resolve_symbol(given: str | None, bars: Path, known: Catalogue) -> str:
    if given:
        symbol = given.strip().upper()
        if symbol not in known:
            raise ValueError(f"unknown symbol {symbol!r} (nearest known: {', '.join(known.nearest(symbol)) or 'none'}); "
                             "`tracer_bullet.py assets --search TEXT` lists the catalogue")
        return symbol
    stem = bars.stem.upper().replace("-", "_").split("_")[0]
    if stem in known:
        return stem
    raise ValueError(f"cannot tell the symbol from the bar file name {bars.name!r}; pass --symbol "
                     "(`tracer_bullet.py assets --search TEXT` lists the catalogue)")


class ReplayError(Exception):
    """Input the replay cannot use; the message names the file or argument."""


@dataclass(frozen=True)
class ReplaySummary:
    out: Path
    document: dict[str, Any]

    def __str__(self) -> str:
        d = self.document
        counts = d["directions"]
        lines = [
            f"Replay of {d['symbol']}: {d['signals']} signals over {d['sessions']} sessions "
            f"(BUY {counts.get('BUY', 0)}, SELL {counts.get('SELL', 0)}, HOLD {counts.get('HOLD', 0)}).",
            f"Headlines: {d['headlines']} read, {d['relevant_headlines']} relevant to {d['symbol']}; "
            f"sentiment by {d['sentiment_backend']}.",
        ]
        for news in d["news_files"]:
            lines.append(f"  {news}")
        if d["probability_quantiles"]:
            quantiles = ", ".join(f"q{int(q * 100)} {v:.3f}" for q, v in zip(QUANTILES, d["probability_quantiles"]))
            lines.append(f"Probabilities of calls: {quantiles}.")
        for reason, count in d["sessions_skipped"].items():
            lines.append(f"  {count} sessions made no signal, the first because {reason}")
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in d["timings_seconds"].items())
        lines.append(f"Timings: {timings}. Wrote {self.out / 'signals.csv'} and {self.out / 'replay.json'}.")
        return "\n".join(lines)


def run_replay(settings: Settings, news_paths: Sequence[Path], bars_path: Path, symbol: str | None,
               start: datetime | None, end: datetime | None, out: Path, progress: Progress = SILENT) -> ReplaySummary:
    """`progress` hears of each stage (news files, relevance, sentiment, walk forward) with its count."""
    clock: dict[str, float] = {}
    began = time.perf_counter()
    try:
        catalogue = catalogue_for(settings)
        symbol = resolve_symbol(symbol, Path(bars_path), catalogue)
        news = []
        with progress.stage("news files", len(news_paths), "file") as tick:
            for path in news_paths:
                news.append(read_news(path))
                tick(1)
        series = read_bars(Path(bars_path), symbol)
    except (ValueError, NewsError, BarsError) as exc:
        raise ReplayError(str(exc)) from None
    headlines = [h for f in news for h in f.headlines]
    clock["read"] = time.perf_counter() - began

    mark = time.perf_counter()
    asset = catalogue[symbol]
    mentions = []
    with progress.stage("relevance", len(headlines), "headline") as tick:
        for first in range(0, len(headlines), RELEVANCE_CHUNK):
            chunk = headlines[first:first + RELEVANCE_CHUNK]
            mentions.extend(relevant_headlines(asset, chunk))
            tick(len(chunk))
    clock["relevance"] = time.perf_counter() - mark

    mark = time.perf_counter()
    try:
        loaded = load_backend(settings.sentiment_backend, settings.finbert_model, quantize=settings.finbert_quantize)
    except SentimentLoadError as exc:
        raise ReplayError(f"sentiment model: {exc}") from None
    sessions = open_store(settings.database_url)
    polarity = {}
    relevant = [m.headline for m in mentions]
    with sessions.begin() as session, progress.stage("sentiment", len(relevant), "headline") as tick:
        for first in range(0, len(relevant), SENTIMENT_CHUNK):
            chunk = relevant[first:first + SENTIMENT_CHUNK]
            polarity.update(score_headlines(session, loaded.backend, chunk))
            tick(len(chunk))
    clock["sentiment"] = time.perf_counter() - mark

    mark = time.perf_counter()
    interval = series.interval
    params = CycleParams(
        half_life=timedelta(hours=settings.half_life_hours),
        window=timedelta(hours=settings.narrative_window_hours),
        horizon=timedelta(hours=settings.horizon_hours),
        # Date-only sources arrive in daily batches: a burst shorter than one bar cannot be seen.
        burst_window=max(timedelta(hours=settings.hype_window_hours), interval),
    )
    config = WalkConfig(params, settings.divergence_history, settings.calibration_min_outcomes, start, end)
    visited = sum(1 for b in series.bars if not ((start and b.start < start) or (end and b.start >= end)))
    with progress.stage("walk forward", visited, "session") as tick:
        result = walk_forward(asset, mentions, polarity, series.bars, interval, config, tick)
    clock["walk_forward"] = time.perf_counter() - mark

    mark = time.perf_counter()
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_signals_csv(out / "signals.csv", result.signals, {asset.symbol: asset.name})
    except OSError as exc:
        raise ReplayError(f"cannot write to {out}: {exc}") from None
    clock["write"] = time.perf_counter() - mark
    clock["total"] = time.perf_counter() - began
    document = summary_document(symbol, news, len(headlines), len(mentions), loaded.note, result, params,
                                [str(p) for p in (*series.problems, *loaded.problems)], clock)
    (out / "replay.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ReplaySummary(out, document)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def signal_record(signal: Signal, evidence: str) -> dict[str, str]:
    narrative, price = signal.narrative, signal.price
    record = {
        "as_of": signal.as_of.isoformat(),
        "symbol": signal.symbol,
        "direction": signal.direction.value,
        "probability": _number(signal.probability),
        "horizon_hours": f"{signal.horizon / timedelta(hours=1):g}",
        "conviction": _number(signal.conviction),
        "narrative_score": _number(narrative.score),
        "price_score": _number(price.score),
        "divergence": _number(signal.divergence),
        "reason_codes": ";".join(signal.reason_codes),
        "headline_count": str(narrative.headline_count),
        "sources": ";".join(sorted({c.source for c in narrative.contributions})),
        "headlines_seen": str(narrative.headlines_seen),
        "trigger": _number(signal.trigger.threshold if signal.trigger else None),
        "probability_method": signal.probability_method if signal.actionable else "",
        "prior_probability": _number(signal.prior),
        "calibration_outcomes": str(signal.calibration_count) if signal.actionable else "",
        "base_rate": _number(signal.base_rate),
        "edge": signal.edge_status or "",
        "evidence": evidence,
    }
    for name in ("short", "mid", "long"):
        record[f"divergence_{name}"] = _number(signal.divergences.get(name))
        record[f"price_{name}"] = _number(price.timescales.get(name))
    return record


def write_signals_csv(path: Path, signals: Sequence[Signal], names: Mapping[str, str] | None = None) -> None:
    names = names or {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SIGNAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for signal in signals:
            writer.writerow(signal_record(signal, evidence_line(signal, names.get(signal.symbol))))


def quantiles(values: Sequence[float]) -> list[float]:
    if not values:
        return []
    ordered = sorted(values)
    if len(ordered) == 1:
        return [ordered[0]] * len(QUANTILES)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return [ordered[0], *(cuts[int(q * 100) - 1] for q in QUANTILES[1:-1]), ordered[-1]]


def summary_document(symbol: str, news: Sequence[NewsFile], headline_count: int, relevant: int, backend_note: str,
                     result: WalkResult, params: CycleParams, problems: Sequence[str],
                     clock: dict[str, float]) -> dict[str, Any]:
    directions = Counter(s.direction.value for s in result.signals)
    probabilities = [s.probability for s in result.signals if s.probability is not None]
    return {
        "symbol": symbol,
        "signals": len(result.signals),
        "sessions": result.sessions,
        "directions": dict(sorted(directions.items())),
        "probability_quantiles": quantiles(probabilities),
        "quantile_levels": list(QUANTILES),
        "headlines": headline_count,
        "relevant_headlines": relevant,
        "sentiment_backend": backend_note,
        "news_files": [f.summary() for f in news],
        "news_rows_skipped": {f.path.name: dict(f.skipped) for f in news},
        "news_rows_repaired": {f.path.name: dict(f.repaired) for f in news},
        "sessions_skipped": dict(result.skipped),
        "data_problems": dict(result.problems),
        "load_problems": list(problems),
        "calibration": calibrator_summary(result.calibrator),
        "calls_resolved": result.resolved,
        "params": {
            "half_life_hours": params.half_life / timedelta(hours=1),
            "window_hours": params.window / timedelta(hours=1),
            "horizon_hours": params.horizon / timedelta(hours=1),
            "burst_window_hours": params.burst_window / timedelta(hours=1),
        },
        "timings_seconds": {k: round(v, 3) for k, v in clock.items()},
    }
