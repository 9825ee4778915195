"""`eval`: resolve outcomes and write the evaluation artifacts. Heavy imports wait for the handler."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "eval", help="resolve signal outcomes; Brier, log-loss, calibration vs baselines; writes eval_runs/<time>/")
    parser.add_argument("--signals", type=Path, metavar="CSV", help="a replay's signals.csv (default: the store's signals)")
    parser.add_argument("--bars", type=Path, metavar="F",
                        help="bars to resolve against: one OHLCV CSV, or a directory with one file per symbol "
                             "(default: TB_BARS_DIR or the embedded bars)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write here instead of eval_runs/<timestamp>/")
    parser.set_defaults(handler=cmd_eval)


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from cli.progress import terminal_progress
    from service.composition import utcnow
    from eval.artifacts import run_directory, write_artifacts
    from eval.equity import trading_costs
    from eval.pipeline import evaluate_csv, evaluate_store, store_bars
    from eval.render import metrics_table, verdict
    from eval.signals import SignalsError
    from providers.bars import BarsError
    from storage.db import open_store

    if args.bars is not None and args.signals is None:
        print("eval: --bars needs --signals (the store's signals use TB_BARS_DIR or the embedded bars)", file=sys.stderr)
        return 2
    now = utcnow()
    bars_dir = args.bars if args.bars is not None else settings.bars_dir
    progress, costs = terminal_progress(), trading_costs(settings)
    try:
        if args.signals is not None:
            report = evaluate_csv(args.signals, bars_dir, now, costs, progress)
        else:
            report = evaluate_store(open_store(settings.database_url), store_bars(bars_dir), now,
                                    source="the store's signals", costs=costs, progress=progress)
    except (SignalsError, BarsError) as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    out = args.out if args.out is not None else run_directory(settings.eval_runs_dir, now)
    try:
        with progress.stage("pictures", 1, "run") as tick:
            write_artifacts(report, out)
            tick(1)
    except OSError as exc:
        print(f"eval: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(metrics_table(report))
    print(verdict(report))
    print(f"Artifacts: {out}")
    return 0
