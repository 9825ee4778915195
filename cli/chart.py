"""`chart SYMBOL --out FILE`: the price with the news score beneath it, the calls and the headlines that
moved the story, as a PNG (service/charts.py draws it; chat's /chart sends the same picture)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not 0 < value <= 90:
        raise argparse.ArgumentTypeError(f"{text!r}: give more than 0 and at most 90 days")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    chart = subparsers.add_parser(
        "chart", help="a picture of one asset: price, news score beneath it, the calls and the headlines that "
                      "moved the story; writes a PNG")
    chart.add_argument("symbol", metavar="SYMBOL", help="a catalogue symbol, e.g. ETH (see `assets`)")
    chart.add_argument("--out", required=True, type=Path, metavar="FILE", help="where to write the PNG")
    chart.add_argument("--days", type=_days, default=7.0, metavar="N",
                       help="how many days up to the latest call to show (default 7, at most 90)")
    chart.set_defaults(handler=cmd_chart)


def cmd_chart(settings: Settings, args: argparse.Namespace) -> int:
    from service.composition import utcnow
    from service.charts import ChartError, UnknownSymbol, symbol_chart
    from storage.db import open_store

    try:
        chart = symbol_chart(settings, open_store(settings.database_url), args.symbol, utcnow(), args.days)
    except UnknownSymbol as exc:
        print(f"chart: {exc}", file=sys.stderr)
        return 2
    except ChartError as exc:
        print(f"chart: {exc}", file=sys.stderr)
        return 1
    try:
        args.out.write_bytes(chart.png)
    except OSError as exc:
        print(f"chart: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(chart.caption)
    print(f"Wrote {args.out}")
    return 0
