"""`replay`: walk-forward over historical headline files and a bar file; writes DIR/signals.csv.

The shell: read the files (providers/replay_news.py, providers/bars.py), score headline sentiment
through the configured backend and the store's score cache, run the pure walk-forward loop
(intelligence/walk_forward.py, which calls the live cycle), write the signals and a summary.
Top-level imports stay light: every command-line call imports this module.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config import Settings

SIGNAL_COLUMNS = (
    "as_of", "symbol", "direction", "probability", "horizon_hours", "conviction", "narrative_score", "price_score",
    "divergence", "reason_codes", "headline_count", "sources", "headlines_seen", "divergence_short",
    "divergence_mid", "divergence_long", "price_short", "price_mid", "price_long", "trigger", "probability_method",
    "prior_probability", "calibration_outcomes", "evidence",
)


def parse_time(text: str, end: bool = False) -> datetime:
    """ISO date or time; no offset means UTC. A bare date as --to covers that whole day."""
    try:
        ts = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or time (e.g. 2018-06-01 or 2018-06-01T14:30)") from None
    ts = ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)
    if end and len(text.strip()) == 10:
        ts += timedelta(days=1)
    return ts


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="walk-forward over historical news and bars; writes DIR/signals.csv",
        description="Replays the signal cycle at every session in the bar file, each time with only the "
                    "headlines and bars known then (see providers/replay_news.py for when a headline is known).",
    )
    parser.add_argument("--news", action="append", required=True, type=Path, metavar="F",
                        help="headline file (CNBC, Guardian or Reuters format); repeat for several")
    parser.add_argument("--bars", required=True, type=Path, metavar="F", help="OHLCV CSV of the traded symbol")
    parser.add_argument("--symbol", help="catalogue symbol the bars belong to (default: from the bar file's name)")
    parser.add_argument("--from", dest="start", type=parse_time, metavar="T", help="first as-of (inclusive, UTC)")
    parser.add_argument("--to", dest="end", type=lambda t: parse_time(t, end=True), metavar="T",
                        help="last as-of (a bare date includes that day)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory for signals.csv and replay.json")
    parser.set_defaults(handler=cmd_replay)


def resolve_symbol(given: str | None, bars: Path, known: Any) -> str:
    if given:
        symbol = given.strip().upper()
        if symbol not in known:
            raise ValueError(f"unknown symbol {symbol!r}; known: {', '.join(known)}")
        return symbol
    stem = bars.stem.upper().replace("-", "_").split("_")[0]
    if stem in known:
        return stem
    raise ValueError(f"cannot tell the symbol from the bar file name {bars.name!r}; pass --symbol (known: {', '.join(known)})")


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from app.replay_run import ReplayError, run_replay

    if args.start and args.end and args.end <= args.start:
        print("replay: --to must be after --from", file=sys.stderr)
        return 2
    try:
        report = run_replay(settings, args.news, args.bars, args.symbol, args.start, args.end, args.out)
    except ReplayError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0
