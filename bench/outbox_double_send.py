"""The outbox's double-send window (issue 13, finding 3): copies of one message when Telegram accepts
every send but answers late, and how long a crash must hit to cause a copy.

1. Telegram slow to answer: the real runtime (tests/chat_fixtures.py chat_stack) against the fake Bot
   API, which does each sendMessage at once and answers it --late seconds later, for a --window of
   seconds; then normal. Counted: the copies of one alert the chat shows in the end. HTTP timeout
   (TB_CHAT_TIMEOUT_SECONDS) 0.25 s, backoff 0.05 s doubling to 1 s, so the figures come in seconds;
   with the defaults (15 s, 2 s to 300 s) the same shape is 60 times slower.
2. Process death: a copy is possible only if the process dies between Telegram's answer and the
   outbox's commit of it. Timed: Outbox.sent on a SQLite file store (WAL), the width of that window.

With --root DIR the product (runtime, outbox, sender) comes from another checkout, e.g. the tree
from before the change (`git archive <commit> | tar -x -C DIR`); the fakes come from this one.
Prints figures, asserts nothing. Run: .venv/bin/python bench/outbox_double_send.py [--root DIR]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from measure import ROOT, emit, load_average, percentile, product_root, use_product

sys.path.insert(0, str(ROOT))
import tests.fake_telegram  # noqa: E402,F401  (this checkout's fake, with answers that come late)

sys.path.remove(str(ROOT))
use_product(product_root())

HTTP_TIMEOUT = 0.25
LATES = (0.1, 0.5, 0.9, 1.5)  # seconds Telegram takes to answer: below, 2x, 3.6x, 6x the HTTP timeout


async def copies(late: float, window: float) -> int:
    from tests.chat_fixtures import OPERATOR, chat_stack
    from trading.alerts import Alert

    async with chat_stack(chat_timeout_seconds=HTTP_TIMEOUT, outbox_backoff_seconds=0.05,
                          outbox_backoff_max_seconds=1.0, discord=False) as stack:
        tg = stack.telegram
        tg.outage(late=late, methods={"sendMessage"})
        stack.runtime.publisher.alert(Alert("error", "Broker unreachable", f"error:{late}"))
        await asyncio.sleep(window)
        tg.recover()
        await asyncio.sleep(late + 3.0)  # what was still on its way settles
        return len(tg.to(OPERATOR))


def record_window(samples: int) -> list[float]:
    """Seconds Outbox.sent takes to commit, per message, on a WAL file store."""
    from bot.outbox import Envelope, Outbox
    from storage.db import open_store

    with tempfile.TemporaryDirectory() as scratch:
        outbox = Outbox(open_store(f"sqlite:///{Path(scratch) / 'tb.db'}"), lambda: datetime.now(timezone.utc))
        for n in range(samples):
            outbox.put(Envelope(f"bench:{n}", "telegram", "1", "reply", {"method": "send", "parts": ["x"]}))
        took = []
        for message in outbox.pending():
            began = time.perf_counter()
            outbox.sent(message.id, 1)
            took.append(time.perf_counter() - began)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose product code is measured")
    parser.add_argument("--window", type=float, default=6.0, help="seconds Telegram answers late")
    args = parser.parse_args()
    print(f"tree measured: {args.root}   load average: {load_average()}")
    result: dict[str, float] = {}
    for late in LATES:
        shown = asyncio.run(copies(late, args.window))
        print(f"Telegram answering {late:g} s late ({late / HTTP_TIMEOUT:.1f} x the HTTP timeout) for "
              f"{args.window:g} s: {shown} cop{'y' if shown == 1 else 'ies'} of one message")
        result[f"copies_late_{late:g}s"] = shown
    took = record_window(200)
    print(f"crash window (Telegram's answer -> outbox commit), 200 messages: median {percentile(took, 50) * 1000:.2f} ms, "
          f"p99 {percentile(took, 99) * 1000:.2f} ms")
    result |= {"record_median_ms": round(percentile(took, 50) * 1000, 3), "record_p99_ms": round(percentile(took, 99) * 1000, 3)}
    emit(result)


if __name__ == "__main__":
    main()
