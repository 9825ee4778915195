"""How long one cycle holds the store's write lock while Claude is slow (issue 13, finding 1).

One cycle on the embedded snapshot into a fresh SQLite file, with the Claude cross-check on against
the loopback fake of the Messages API (tests/fake_anthropic.py) answering every request
--claude-delay seconds late. Every write transaction of the cycle is timed from its first write
statement (where SQLite takes the lock) to its commit (tests/write_lock.py). A chat command, an
outbox delivery or another process waits at most as long as the longest of those.

To compare with the tree from before the change, measure it with --root DIR (a copy of that commit,
e.g. `git archive <commit> | tar -x -C DIR`): the fakes and the timing come from this checkout.
Prints figures, asserts nothing. Run: .venv/bin/python bench/cycle_write_lock.py [--claude-delay S] [--root DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from measure import ROOT, emit, load_average, product_root, use_product

sys.path.insert(0, str(ROOT))  # the fakes and the lock timer come from this checkout, whatever --root is
from tests.fake_anthropic import KEY, FakeMessagesApi, Fault  # noqa: E402
from tests.write_lock import WriteLockWatch  # noqa: E402

sys.path.remove(str(ROOT))
use_product(product_root())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claude-delay", type=float, default=3.0, help="seconds each Claude request takes")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose product code is measured")
    args = parser.parse_args()

    from config import load_settings
    from pipeline.cycle import run_once
    from providers.bars import EmbeddedMarketData
    from providers.sentiment_models import load_backend

    api = FakeMessagesApi().start()
    api.faults.extend(Fault(delay=args.claude_delay) for _ in range(100))
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.update(ANTHROPIC_API_KEY=KEY)
        url = f"sqlite:///{Path(scratch) / 'tb.db'}"
        settings = load_settings(database_url=url, anthropic_base_url=api.url, claude_timeout_seconds=60,
                                 artifacts_dir=Path(scratch) / "artifacts", sentiment_backend="embedded")
        from storage.db import open_store

        sessions = open_store(url)
        watch = WriteLockWatch(sessions.kw["bind"])
        backend = load_backend("embedded", "unused").backend
        began = time.perf_counter()
        report = run_once(settings, sessions, backend, (), EmbeddedMarketData(), datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc))
        took = time.perf_counter() - began
    api.stop()
    asked = len(api.requests)
    print(f"tree measured: {args.root}   load average: {load_average()}")
    print(f"cycle with Claude answering {args.claude_delay:g} s late ({asked} requests): {took:.2f} s, "
          f"{'degraded' if report.digest.degraded else 'ok'}")
    print(f"write transactions: {len(watch.holds)}; longest write-lock hold: {watch.longest * 1000:.1f} ms; "
          f"all holds together: {sum(watch.holds) * 1000:.1f} ms")
    emit({"claude_delay_s": args.claude_delay, "claude_requests": asked, "cycle_s": round(took, 3),
          "write_transactions": len(watch.holds), "longest_hold_ms": round(watch.longest * 1000, 1),
          "total_hold_ms": round(sum(watch.holds) * 1000, 1)})


if __name__ == "__main__":
    main()
