"""A warm cycle on a store that has run for weeks: what reading the cycle's state from history costs.

In live mode (as-of = now) every cycle reads what earlier cycles left: the divergence history of
each symbol (pipeline/signal_state.py divergence_history, up to 240 signals per symbol) and the resolved
calls behind the calibrator (resolved_calls, up to 2,000 signals, resolved from the bars when the
evaluation has not stored their outcome yet). The snapshot's cycles all share one as-of, so a fresh
store has none of it; this benchmark seeds the store with --cycles earlier cycles (15 minutes apart,
9 signals each, the features and evidence of a real cycle's signals, one call in four actionable)
and their outcomes as serve's hourly evaluation would have stored them (all but the last hours).

Measured, in one process as `serve` runs: pipeline.signal_state.load_cycle_state, and whole warm cycles
on the seeded store (5% new headlines, as bench/cycle_latency.py). To see what a change to the read
is worth, measure the checkout from before it with --root (or bench/run_all.py --before DIR).
Peak memory is the process's.
Prints figures, asserts nothing. Run: .venv/bin/python bench/cycle_history.py [--cycles N] [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from measure import ROOT, checked, clean_env, emit, load_average, median, run_child, self_peak_mb, use_product

CYCLE_SPACING = timedelta(minutes=15)
RESOLVE_LAG = timedelta(hours=1)  # serve's evaluation resolves outcomes hourly (TB_RESOLVE_MINUTES)


def seed_history(sessions, cycles: int, market) -> int:  # type: ignore[no-untyped-def]
    """Earlier cycles before the first cycle's as-of, built from its signals; returns the signals added."""
    from sqlalchemy import select

    from intelligence.outcomes import resolve_outcome
    from intelligence.types import Direction
    from storage.eval_models import OutcomeRow
    from storage.models import Run, SignalRow

    rng = random.Random(20251213)
    with sessions.begin() as session:
        templates = list(session.scalars(select(SignalRow)))
        as_of = max(t.as_of for t in templates)
        added = 0
        for back in range(cycles, 0, -1):
            when = as_of - back * CYCLE_SPACING
            run = Run(started_at=when, finished_at=when, as_of=when, status="ok", sentiment_backend="embedded",
                      headline_count=150, problems=[])
            session.add(run)
            session.flush()
            rows = []
            for t in templates:
                direction = rng.choice((Direction.BUY, Direction.SELL, Direction.HOLD, Direction.HOLD, Direction.HOLD))
                rows.append(SignalRow(run_id=run.id, symbol=t.symbol, as_of=when, direction=direction.value,
                                      probability=None if direction is Direction.HOLD else rng.uniform(0.5, 0.6),
                                      conviction=rng.random(), horizon_hours=t.horizon_hours,
                                      narrative_score=t.narrative_score, price_score=t.price_score,
                                      divergence=rng.uniform(-1, 1),
                                      reason_codes=list(t.reason_codes) if rng.random() < 0.8 else ["NO_NEWS"],
                                      evidence=t.evidence, features=t.features))
            session.add_all(rows)
            session.flush()
            added += len(rows)
            for row in rows:
                horizon = timedelta(hours=row.horizon_hours)
                if row.direction == Direction.HOLD.value or when + horizon + RESOLVE_LAG > as_of:
                    continue
                series = market.bars_until(row.symbol, as_of)
                outcome = resolve_outcome(when, Direction(row.direction), horizon, series.bars, series.interval)
                if outcome is not None:
                    session.add(OutcomeRow(signal_id=row.id, resolved_at=outcome.exit_time + RESOLVE_LAG,
                                           hit=outcome.hit, realized_return=outcome.realized_return,
                                           mfe=outcome.max_favorable, mae=outcome.max_adverse,
                                           entry_time=outcome.entry_time, entry_price=outcome.entry_price,
                                           exit_time=outcome.exit_time, exit_price=outcome.exit_price))
    return added


def worker(cycles: int, repeat: int) -> dict:
    from service.composition import utcnow
    from pipeline.cycle import run_once
    from pipeline.data_sources import build_data_sources
    from pipeline.signal_state import load_cycle_state
    from config import load_settings
    from providers.sentiment_models import load_backend
    from storage.db import open_store

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cycle_latency import _feed_items, choose, rewrite_titles

    settings = load_settings()
    sessions = open_store(settings.database_url)
    # A checkout from before TB_FINBERT_QUANTIZE (--root) has neither the setting nor the argument.
    quantize = {"quantize": True} if getattr(settings, "finbert_quantize", False) else {}
    loaded = load_backend(settings.sentiment_backend, settings.finbert_model, **quantize)
    sources = build_data_sources(settings, sessions, utcnow)
    first = run_once(settings, sessions, loaded.backend, loaded.problems, sources.market, utcnow(), sources)
    as_of = first.digest.as_of
    began = time.perf_counter()
    signals = seed_history(sessions, cycles, sources.market)
    seeding = time.perf_counter() - began
    reads: list[float] = []
    for _ in range(repeat):
        with sessions() as session:
            start = time.perf_counter()
            state = load_cycle_state(session, sources.market, settings.universe, as_of, settings.divergence_history,
                                     settings.calibration_min_outcomes, timedelta(hours=settings.horizon_hours))
            reads.append(time.perf_counter() - start)
    items, warm = _feed_items(settings.feeds_dir), []
    for round_ in range(repeat):
        rewrite_titles(settings.feeds_dir, choose(items, "spread", round_), f"update history {round_}")
        start = time.perf_counter()
        run_once(settings, sessions, loaded.backend, loaded.problems, sources.market, utcnow(), sources)
        warm.append(time.perf_counter() - start)
    return {"signals_seeded": signals, "seed_seconds": seeding, "warm_seconds": median(warm),
            "state_shipped_seconds": median(reads),
            "calls_in_calibrator": state.calibrator.count if state.calibrator else 0, "peak_mb": self_peak_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=2000, help="earlier cycles in the store (default 2000: three weeks)")
    parser.add_argument("--repeat", type=int, default=5, help="measurements behind each median")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose product code is measured")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_product(args.root)
    if args.worker:
        print(json.dumps(worker(args.cycles, args.repeat)))
        return 0
    from providers.feeds import EMBEDDED_FEEDS_DIR

    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(EMBEDDED_FEEDS_DIR, Path(scratch) / "feeds")
        env = clean_env(TB_DATABASE_URL=f"sqlite:///{Path(scratch) / 'history.db'}",
                        TB_ARTIFACTS_DIR=str(Path(scratch) / "artifacts"), TB_FEEDS_DIR=str(Path(scratch) / "feeds"))
        run = checked(run_child([sys.executable, str(Path(__file__).resolve()), "--root", str(args.root), "--worker",
                                 "--cycles", str(args.cycles), "--repeat", str(args.repeat)], env, Path(scratch)),
                      "history worker")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"store with {args.cycles} earlier cycles ({result['signals_seeded']} signals, seeded in "
          f"{result['seed_seconds']:.0f} s); load {load_average()}; medians of {args.repeat}")
    print(f"  cycle state read (pipeline/signal_state.py)               {result['state_shipped_seconds'] * 1000:7.1f} ms "
          f"({result['calls_in_calibrator']} resolved calls)")
    print(f"  warm cycle on this store (5% new headlines)          {result['warm_seconds'] * 1000:7.1f} ms   target < 1 s")
    print(f"  peak memory {result['peak_mb']:.0f} MB")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
