"""`match [--universe S,S,...]`: one headline per stdin line in, one JSON object per line out.

`{"text": ..., "matches": [{"symbol", "name", "relevance", "named", "semantic"}, ...]}`, strongest first:
how a user checks why a headline did or did not count for an asset. Every input line gets exactly one
output line, in order (a blank line matches nothing). The whole catalogue by default.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "match", help="which assets each headline on stdin names (JSON lines out)",
        description="Reads one headline per line on stdin and writes one JSON object per line: "
                    '{"text", "matches": [{"symbol", "relevance", "named", ...}]}.',
    )
    parser.add_argument("--universe", metavar="S,S,...",
                        help="only these catalogue symbols (default: the whole catalogue)")
    parser.set_defaults(handler=cmd_match)


def cmd_match(settings: Settings, args: argparse.Namespace) -> int:
    from intelligence.relevance import matcher_for
    from intelligence.types import Headline
    from pipeline.universe import catalogue_for
    from storage.db import open_store

    catalogue = catalogue_for(settings, open_store(settings.database_url))
    if args.universe is None:
        assets = tuple(catalogue.values())
    else:
        symbols = list(dict.fromkeys(s.strip().upper() for s in args.universe.split(",") if s.strip()))
        unknown = [s for s in symbols if s not in catalogue]
        if not symbols or unknown:
            for symbol in unknown:
                print(f"match --universe: unknown symbol {symbol} (nearest known: "
                      f"{', '.join(catalogue.nearest(symbol)) or 'none'})", file=sys.stderr)
            if not symbols:
                print("match --universe: no symbol given", file=sys.stderr)
            return 2
        assets = tuple(catalogue[s] for s in symbols)
    matcher = matcher_for(assets)
    now = datetime.now(timezone.utc)
    out = sys.stdout
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            print(f"match: line {number} of standard input is not UTF-8 text", file=sys.stderr)
            return 1
        matches: list[dict[str, Any]] = []
        if text.strip():
            found = matcher.mentions([Headline("stdin", text, now)], assets)
            matches = sorted(({"symbol": s, "name": catalogue.name(s), "relevance": round(m.relevance, 4),
                               "named": m.named, "semantic": round(m.semantic, 4)}
                              for s, ms in found.items() for m in ms), key=lambda m: (-m["relevance"], m["symbol"]))
        out.write(json.dumps({"text": text, "matches": matches}, ensure_ascii=False) + "\n")
        out.flush()
    return 0
