"""A warm cycle on a store that has run for weeks: what reading the cycle's state from history costs.

In live mode (as-of = now) every cycle reads what earlier cycles left: the divergence history of
each symbol (app/signal_state.py divergence_history, up to 240 signals per symbol) and the resolved
calls behind the calibrator (resolved_calls, up to 2,000 signals, resolved from the bars when the
evaluation has not stored their outcome yet). The snapshot's cycles all share one as-of, so a fresh
store has none of it; this benchmark seeds the store with --cycles earlier cycles (15 minutes apart,
9 signals each, the features and evidence of a real cycle's signals, one call in four actionable)
and their outcomes as serve's hourly evaluation would have stored them (all but the last hours).

Measured, in one process as `serve` runs: app.signal_state.load_cycle_state as shipped; the same
state read with plain columns and one bar check per symbol (a what-if, implemented here, checked to
give the identical state: the change proposed for app/signal_state.py); both again with two indexes
on the signals table (a what-if migration, made in this benchmark's own store and dropped after);
and whole warm cycles on the seeded store as shipped (5% new headlines, as bench/cycle_latency.py).
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
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from measure import ROOT, checked, clean_env, emit, load_average, median, run_child, self_peak_mb, use_product

CYCLE_SPACING = timedelta(minutes=15)
# What-if indexes for the two history reads (a migration in storage/migrations would add them).
INDEXES = ("CREATE INDEX bench_signals_symbol_as_of ON signals (symbol, as_of)",
           "CREATE INDEX bench_signals_as_of ON signals (as_of)")
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


def state_by_columns(session, market, symbols, as_of, length: int, min_outcomes: int):  # type: ignore[no-untyped-def]
    """app.signal_state.load_cycle_state, reading only the columns it uses and checking each symbol's bars
    once (intelligence.outcomes.resolve_outcomes) instead of once per call."""
    from sqlalchemy import select

    from app.signal_state import MAX_CALLS
    from intelligence.calibration import Resolved, fit_calibrator
    from intelligence.cycle import CycleState
    from intelligence.types import Direction
    from providers.bars import BarsError

    try:
        from intelligence.outcomes import resolve_outcomes
    except ImportError:  # a checkout from before the batch resolver: one call at a time
        from intelligence.outcomes import resolve_outcome

        def resolve_outcomes(calls, bars, interval):  # type: ignore[no-untyped-def]
            return [resolve_outcome(a, d, h, bars, interval) for a, d, h in calls]
    from storage.eval_models import OutcomeRow
    from storage.models import SignalRow

    history: dict[str, list[float]] = {}
    for symbol in symbols:
        values: list[float] = []
        if length:
            seen: set = set()
            for when, codes, divergence in session.execute(
                select(SignalRow.as_of, SignalRow.reason_codes, SignalRow.divergence)
                .where(SignalRow.symbol == symbol, SignalRow.as_of < as_of)
                .order_by(SignalRow.as_of.desc(), SignalRow.id.desc()).limit(length * 4)
            ):
                if when in seen or (codes or ["NO_NEWS"])[0] == "NO_NEWS":
                    continue
                seen.add(when)
                values.append(divergence)
                if len(values) == length:
                    break
        history[symbol] = values[::-1]
    latest = {}
    for row in session.execute(
        select(SignalRow.id, SignalRow.symbol, SignalRow.as_of, SignalRow.direction, SignalRow.conviction,
               SignalRow.horizon_hours)
        .where(SignalRow.direction != Direction.HOLD.value, SignalRow.as_of < as_of)
        .order_by(SignalRow.as_of.desc(), SignalRow.id.desc()).limit(MAX_CALLS)
    ):
        latest.setdefault((row.symbol, row.as_of), row)
    calls = sorted((r for r in latest.values() if r.as_of + timedelta(hours=r.horizon_hours) < as_of),
                   key=lambda r: (r.as_of, r.symbol))
    ids = [r.id for r in calls]
    stored: dict[int, bool] = {}
    if ids:
        found = session.execute(select(OutcomeRow.signal_id, OutcomeRow.hit)
                                .where(OutcomeRow.signal_id.in_(ids), OutcomeRow.exit_time < as_of))
        stored = {signal_id: hit for signal_id, hit in found}
    by_symbol = defaultdict(list)
    for r in calls:
        if r.id not in stored:
            by_symbol[r.symbol].append(r)
    for symbol, pending in by_symbol.items():
        try:
            series = market.bars_until(symbol, as_of)
        except BarsError:
            continue
        outcomes = resolve_outcomes([(r.as_of, Direction(r.direction), timedelta(hours=r.horizon_hours)) for r in pending],
                                    series.bars, series.interval)
        for r, outcome in zip(pending, outcomes):
            if outcome is not None and outcome.exit_time < as_of:
                stored[r.id] = outcome.hit
    resolved = [Resolved(r.conviction, Direction(r.direction), stored[r.id]) for r in calls if r.id in stored]
    return CycleState(divergence_history=history, calibrator=fit_calibrator(resolved, min_outcomes))


def worker(cycles: int, repeat: int) -> dict:
    from app.cli_support import utcnow
    from app.cycle import run_once
    from app.data_sources import build_data_sources
    from sqlalchemy import text

    from app.signal_state import load_cycle_state
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
    times: dict[str, list[float]] = defaultdict(list)
    same = True
    for indexed in (False, True):
        if indexed:  # the what-if migration, on this benchmark's own store
            with sessions.begin() as session:
                for ddl in INDEXES:
                    session.execute(text(ddl))
        for _ in range(repeat):
            for name, read in (("shipped", load_cycle_state), ("columns", state_by_columns)):
                with sessions() as session:
                    start = time.perf_counter()
                    state = read(session, sources.market, settings.universe, as_of, settings.divergence_history,
                                 settings.calibration_min_outcomes)
                    times[name + ("_indexed" if indexed else "")].append(time.perf_counter() - start)
                if name == "shipped" and not indexed:
                    reference = state
                else:
                    same = same and state == reference
    with sessions.begin() as session:  # the warm cycles run on the store as shipped
        for ddl in INDEXES:
            session.execute(text("DROP INDEX " + ddl.split()[2]))
    items, warm = _feed_items(settings.feeds_dir), []
    for round_ in range(repeat):
        rewrite_titles(settings.feeds_dir, choose(items, "spread", round_), f"update history {round_}")
        start = time.perf_counter()
        run_once(settings, sessions, loaded.backend, loaded.problems, sources.market, utcnow(), sources)
        warm.append(time.perf_counter() - start)
    return {"signals_seeded": signals, "seed_seconds": seeding, "state_identical": same, "warm_seconds": median(warm),
            **{f"state_{name}_seconds": median(values) for name, values in times.items()},
            "calls_in_calibrator": reference.calibrator.count if reference.calibrator else 0, "peak_mb": self_peak_mb()}


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
    result["state_ratio"] = result["state_shipped_seconds"] / result["state_columns_seconds"]
    print(f"store with {args.cycles} earlier cycles ({result['signals_seeded']} signals, seeded in "
          f"{result['seed_seconds']:.0f} s); load {load_average()}; medians of {args.repeat}")
    print(f"  cycle state as shipped (app/signal_state.py)        {result['state_shipped_seconds'] * 1000:7.1f} ms "
          f"({result['calls_in_calibrator']} resolved calls)")
    print(f"  what-if: columns only, bars checked once per symbol  {result['state_columns_seconds'] * 1000:7.1f} ms "
          f"({result['state_ratio']:.1f}x; identical state: {result['state_identical']})")
    print(f"  what-if: indexes on signals (symbol, as_of), (as_of)   shipped {result['state_shipped_indexed_seconds'] * 1000:.1f} ms, "
          f"columns only {result['state_columns_indexed_seconds'] * 1000:.1f} ms")
    print(f"  warm cycle on this store (5% new headlines)          {result['warm_seconds'] * 1000:7.1f} ms   target < 1 s")
    print(f"  peak memory {result['peak_mb']:.0f} MB")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
