"""Approval latency: approve → guards twice → order written → broker → fill recorded → account watched.

Prints p50/p99 over N approvals on the simulated broker and through alpaca-py to the loopback fake
of Alpaca's trading API (tests/fake_alpaca.py). Run: .venv/bin/python bench/trading_approve.py [N]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from measure import emit, percentile, product_root, self_peak_mb, use_product

use_product(product_root())  # --root DIR measures another checkout

from storage.db import open_store  # noqa: E402
from tests.conftest import utc  # noqa: E402
from tests.fake_alpaca import KEY, SECRET, FakeAlpaca  # noqa: E402
from tests.trading_fixtures import Clock, add_proposal, flat_bars, make_world, settings, sim_factory, write_bars  # noqa: E402
from trading.factory import build_broker  # noqa: E402

SYMBOLS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB")


def _time(world, n: int, as_of) -> list[float]:
    times = []
    for i in range(n):
        pid = add_proposal(world.sessions, symbol=SYMBOLS[i % len(SYMBOLS)], quantity=0.001, price=100.0,
                           as_of=as_of + timedelta(seconds=i), created_at=world.clock.now)
        start = time.perf_counter()
        result = world.service.approve(pid, "bench")
        times.append(time.perf_counter() - start)
        assert result.ok, result.message
        world.clock.advance(seconds=61)  # past the throttle window
    return times


def _report(name: str, times: list[float]) -> dict[str, float]:
    p50, p99 = statistics.median(times) * 1000, percentile(times, 99) * 1000
    print(f"{name:<28} n={len(times):<4} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    return {"p50_ms": p50, "p99_ms": p99}


def main(n: int) -> None:
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as directory:
        root = Path(directory)
        for symbol in SYMBOLS:
            write_bars(root / "bars", symbol, utc(2025, 12, 13), flat_bars(100.0, 72))
        url = f"sqlite:///{root / 'sim.db'}"
        open_store(url)
        limits = dict(symbol_cooldown_minutes=0, max_open_positions=20)  # many quick orders on purpose
        world = make_world(url, Clock(utc(2026, 3, 1, 12)), sim_factory(root / "bars"), **limits)
        simulated = _report("simulated broker", _time(world, n, utc(2025, 12, 13, 10, 14)))

        fake = FakeAlpaca({f"{s}/USD": 100.0 for s in SYMBOLS}).start()
        try:
            url = f"sqlite:///{root / 'alpaca.db'}"
            open_store(url)
            config = dict(alpaca_key=KEY, alpaca_secret=SECRET, alpaca_trading_url=fake.url, **limits)
            now = utc(2025, 12, 15, 15, 10)
            world = make_world(url, Clock(now), lambda s, c: build_broker(settings(url, **config), s, c), **config)
            alpaca = _report("alpaca-py to loopback fake", _time(world, n, now - timedelta(minutes=5)))
        finally:
            fake.stop()
    print(f"peak memory {self_peak_mb():.0f} MB (this process, the fake Alpaca included)")
    emit({f"simulated_{k}": v for k, v in simulated.items()} | {f"alpaca_{k}": v for k, v in alpaca.items()}
         | {"peak_mb": self_peak_mb()})


if __name__ == "__main__":
    counts = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(counts[0]) if counts else 50)
