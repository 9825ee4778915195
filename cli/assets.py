"""`assets [--search TEXT] [--json]`: the asset catalogue, or the entries a text finds in it."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings
    from intelligence.types import Asset


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "assets", help="list or search the asset catalogue (stocks, ETFs, coins)",
        description="The catalogue: the shipped entries, lookups remembered from Alpaca and TB_ASSETS_FILE. "
                    "A search matches symbols, names and aliases in any case.",
    )
    parser.add_argument("--search", metavar="TEXT", help="only entries whose symbol, name or an alias contains TEXT")
    parser.add_argument("--json", action="store_true", help="print a JSON list of objects (symbol, name, asset_class, ...)")
    parser.set_defaults(handler=cmd_assets)


def cmd_assets(settings: Settings, args: argparse.Namespace) -> int:
    from cli.support import print_json
    from pipeline.universe import catalogue_for, watchlist_symbols
    from storage.db import open_store

    sessions = open_store(settings.database_url)
    catalogue = catalogue_for(settings, sessions)
    with sessions() as session:
        watched = set(watchlist_symbols(session, settings.universe))
    found = catalogue.search(args.search) if args.search is not None else list(catalogue.values())
    if args.json:
        print_json([_entry(a, catalogue.sources.get(a.symbol, ""), a.symbol in watched) for a in found])
    else:
        for asset in found:
            mark = "*" if asset.symbol in watched else " "
            also = ", ".join(a for a in (*asset.aliases, *asset.ambiguous) if a.lower() != asset.name.lower())
            print(f"{mark} {asset.symbol:<6} {asset.asset_class:<9} {asset.name}" + (f"  ({also})" if also else ""))
        if found:
            print(f"{len(found)} of {len(catalogue)} assets; * = on the watchlist", file=sys.stderr)
    if not found:
        print(f"no asset matches {args.search!r}", file=sys.stderr)
        return 1
    return 0


def _entry(asset: Asset, source: str, watched: bool) -> dict[str, Any]:
    return {
        "symbol": asset.symbol, "name": asset.name, "asset_class": asset.asset_class, "calendar": asset.calendar,
        "aliases": list(asset.aliases), "tickers": list(asset.tickers), "ambiguous": list(asset.ambiguous),
        "source": source, "watched": watched,
    }
