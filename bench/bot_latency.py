"""Command handling latency of the Telegram bot: 50 commands at once against the fake Bot API.

The real python-telegram-bot Application polls a fake Bot API on 127.0.0.1 (tests/fake_telegram.py);
each round injects 50 commands from 50 chats in one getUpdates batch. Two figures per command:
  handled: injected -> the reply is in the outbox (long poll, parse, role check, operator service,
           render, persist); the 50 arrive together, so the last one's figure holds the other 49
  answered: injected -> Telegram (the fake) has the reply (adds the outbox worker and the rate limiter,
            which keeps the bot under Telegram's ~30 messages/s, TB_TELEGRAM_MESSAGES_PER_SECOND=25)
Prints the figures (and the process's peak memory, fakes included); asserts nothing.
Run: .venv/bin/python bench/bot_latency.py [--rounds N] [--wal]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime, timezone

from measure import emit, load_average, percentile, product_root, self_peak_mb, use_product

use_product(product_root())  # --root DIR measures another checkout's bot

from sqlalchemy import select  # noqa: E402

from intelligence.types import Direction  # noqa: E402
from storage.chat_models import OutboxMessage  # noqa: E402
from tests.chat_fixtures import MARKET_TIME, chat_stack, seed_run  # noqa: E402

COMMANDS = ("/status", "/help", "/digest", "/signals", "/proposals")
CONCURRENT = 50


def _wall(ts: datetime) -> float:
    return ts.replace(tzinfo=timezone.utc).timestamp() if ts.tzinfo is None else ts.timestamp()


async def bench(rounds: int, database_url: str, messages_per_second: float) -> dict[str, float]:
    operators = list(range(10_001, 10_001 + CONCURRENT))
    async with chat_stack(database_url=database_url, telegram_operators=operators, outbox_poll_seconds=0.2,
                          telegram_messages_per_second=messages_per_second) as stack:
        seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8), ("ETH", Direction.SELL, 0.53, 0.4),
                                               ("BTC", Direction.HOLD, None, 0.2)])
        tg = stack.telegram
        handled: list[float] = []
        answered: list[float] = []
        started = time.perf_counter()
        for round_ in range(rounds + 1):  # round 0 warms up (first queries, the trading desk) and is not counted
            before = len(tg.sent)
            injected_at: dict[int, float] = {}
            wall_at: dict[int, float] = {}
            for i, user in enumerate(operators):
                wall_at[user] = time.time()
                injected_at[user] = time.monotonic()
                tg.command(user, COMMANDS[(i + round_) % len(COMMANDS)])
            await tg.wait_for(lambda before=before: len(tg.sent) >= before + CONCURRENT, timeout=120)
            if round_ == 0:
                started = time.perf_counter()
                continue
            for message in tg.sent[before:]:
                answered.append(message.at - injected_at[message.chat_id])
            with stack.sessions() as session:
                rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reply")
                                       .order_by(OutboxMessage.id.desc()).limit(CONCURRENT))
                stamps = sorted((_wall(r.created_at), int(r.destination)) for r in rows)
            handled.extend(at - wall_at[user] for at, user in stamps)
        elapsed = time.perf_counter() - started
    total = rounds * CONCURRENT
    print(f"{rounds} rounds x {CONCURRENT} concurrent commands ({', '.join(COMMANDS)}), SQLite file store; "
          f"load {load_average()}")
    result: dict[str, float] = {}
    for key, name, values in (("handled", "handled (in the outbox)", handled),
                              ("answered", "answered (at the Bot API)", answered)):
        ms = [v * 1000 for v in values]
        print(f"  {name:<26} p50 {percentile(ms, 50):7.1f} ms   p99 {percentile(ms, 99):7.1f} ms   "
              f"mean {statistics.fmean(ms):7.1f} ms   max {max(ms):7.1f} ms")
        result |= {f"{key}_p50_ms": percentile(ms, 50), f"{key}_p99_ms": percentile(ms, 99)}
    print(f"  throughput {total / elapsed:.1f} commands/s over {elapsed:.1f} s "
          f"(rate limiter at {messages_per_second:g} messages/s; {CONCURRENT} replies need at least "
          f"{CONCURRENT / messages_per_second:.1f} s, so 'answered' cannot have a p99 below that)")
    return result | {"commands_per_second": total / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--root", help="another checkout whose bot is measured (read before anything is imported)")
    parser.add_argument("--messages-per-second", type=float, default=25.0,
                        help="the rate limiter's overall rate (Telegram allows about 30)")
    parser.add_argument("--wal", action="store_true",
                        help="force SQLite WAL + synchronous=NORMAL, for a --root checkout from before it was the store's default")
    args = parser.parse_args()
    if args.wal:
        from sqlite_wal import enable

        enable()

    with tempfile.TemporaryDirectory() as directory:
        result = asyncio.run(bench(args.rounds, f"sqlite:///{directory}/bench.db", args.messages_per_second))
    result["peak_mb"] = self_peak_mb()
    print(f"  peak memory {result['peak_mb']:.0f} MB (this process: the bot, the store and the fake Bot API)")
    emit(result | {"journal": "wal" if args.wal else "default"})


if __name__ == "__main__":
    main()
