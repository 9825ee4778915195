"""What TB_POLYMARKET=on costs a cycle: the pure reading of a page-full of markets, and a whole cycle with the
markets step against a loopback Gamma fake beside the same cycle with it off, alternated in one process.

The fake serves a week of crypto events in Polymarket's title shapes (tests/fake_gamma.py) for the embedded
universe, repeated `--copies` times with fresh ids (the default, 20, gives 1,520 events with 3,160 markets, more
than the ten pages of a hundred events a cycle reads per tag, so the cycle meets the cap as a busy week would).
The cycles run on the embedded snapshot in a fresh SQLite store each; tests/ is imported for the fake.
Prints figures, asserts nothing. Run: .venv/bin/python bench/prediction_markets.py [--repeat N] [--copies N]
"""
from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

from measure import ROOT, emit, load_average, median, self_peak_mb, use_product

use_product(ROOT)

from config import EMBEDDED_UNIVERSE, load_settings  # noqa: E402
from providers.catalogue import load_catalogue  # noqa: E402
from intelligence.prediction_markets import read_markets  # noqa: E402
from pipeline.cycle import run_once  # noqa: E402
from providers.bars import EmbeddedMarketData  # noqa: E402
from providers.polymarket import parse_market  # noqa: E402
from providers.sentiment_models import load_backend  # noqa: E402
from storage.db import open_store  # noqa: E402
from tests.conftest import utc  # noqa: E402
from tests.fake_gamma import FakeGamma, crypto_week  # noqa: E402

NOW = utc(2025, 12, 13, 10, 30)
AS_OF = utc(2025, 12, 13, 10, 14)
CATALOGUE = load_catalogue()
NAMES = {s: CATALOGUE[s].name for s in EMBEDDED_UNIVERSE}


def events(copies: int) -> list[dict]:
    market = EmbeddedMarketData()
    week = crypto_week(NOW, {s: market.bars_until(s, AS_OF).bars[-1].close for s in EMBEDDED_UNIVERSE}, NAMES)
    found = []
    for n in range(copies):
        for event in copy.deepcopy(week):
            event["id"] = f"{n}-{event['id']}"
            for item in event["markets"]:
                item["id"] = str(int(item["id"]) + 1_000_000 * n)
            found.append(event)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    served = events(args.copies)
    quotes = []
    for event in served:
        for item in event["markets"]:
            try:
                quotes.append(parse_market(item, event["title"]))
            except ValueError:
                pass
    assets = [CATALOGUE[s] for s in EMBEDDED_UNIVERSE]
    reading = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        read = read_markets(quotes, assets, {}, NOW, 1000.0, 10_000.0)
        reading.append((time.perf_counter() - began) * 1000)
    backend = load_backend("embedded", "unused").backend
    gamma = FakeGamma(events=served).start()
    cycles: dict[str, list[float]] = {"off": [], "on": []}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for n in range(args.repeat + 1):
                for mode in ("off", "on"):
                    url = f"sqlite:///{Path(scratch) / f'{mode}-{n}.db'}"
                    settings = load_settings(database_url=url, artifacts_dir=Path(scratch) / "artifacts",
                                             polymarket=mode == "on", polymarket_base_url=gamma.url)
                    sessions = open_store(url)
                    began = time.perf_counter()
                    run_once(settings, sessions, backend, (), EmbeddedMarketData(), NOW)
                    if n:  # the first round warms imports and caches for both
                        cycles[mode].append((time.perf_counter() - began) * 1000)
    finally:
        gamma.stop()
    off, on = median(cycles["off"]), median(cycles["on"])
    print(f"load: {load_average()}")
    print(f"markets served: {sum(len(e['markets']) for e in served)} in {len(served)} events ({len(quotes)} "
          f"well-formed); matched {len(read.readings)}, shown {len(read.shown)}")
    print(f"read_markets (parse, match, compare, lines): median {median(reading):.1f} ms for {len(quotes)} quotes")
    print(f"cycle on the embedded snapshot, fresh store: median {off:.0f} ms off, {on:.0f} ms on "
          f"(+{on - off:.0f} ms, x{on / off:.2f}) over {args.repeat} alternated runs")
    print(f"peak memory of this process: {self_peak_mb():.0f} MB")
    emit({"bench": "prediction_markets", "quotes": len(quotes), "read_ms": median(reading), "cycle_off_ms": off,
          "cycle_on_ms": on, "ratio": on / off, "peak_mb": self_peak_mb()})


if __name__ == "__main__":
    sys.exit(main())
