"""`replay`: walk-forward over historical headline files and a bar file; writes DIR/signals.csv.

Parses the arguments; the work (read, score through the store's cache, walk forward, write) is in
pipeline/replay.py. Top-level imports stay light: every command-line call imports this module.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config import Settings


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


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from cli.progress import terminal_progress
    from pipeline.replay import ReplayError, run_replay

    if args.start and args.end and args.end <= args.start:
        print("replay: --to must be after --from", file=sys.stderr)
        return 2
    try:
        report = run_replay(settings, args.news, args.bars, args.symbol, args.start, args.end, args.out,
                            terminal_progress())
    except ReplayError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0
