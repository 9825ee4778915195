"""Command handling latency of the Telegram bot: 50 commands at once against the fake Bot API.

The real python-telegram-bot Application polls a fake Bot API on 127.0.0.1 (tests/fake_telegram.py);
each round injects 50 commands from 50 chats in one getUpdates batch. Two figures per command:
  handled: injected -> the reply is in the outbox (parse, role check, operator service, render, persist)
  answered: injected -> Telegram (the fake) has the reply (adds the outbox worker and the rate limiter,
            which keeps the bot under Telegram's ~30 messages/s, TB_TELEGRAM_MESSAGES_PER_SECOND=25)
Prints the figures; asserts nothing. Run: .venv/bin/python bench/bot_latency.py [--rounds N]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from intelligence.types import Direction  # noqa: E402
from storage.chat_models import OutboxMessage  # noqa: E402
from tests.chat_fixtures import MARKET_TIME, chat_stack, seed_run  # noqa: E402

COMMANDS = ("/status", "/help", "/digest", "/signals", "/proposals")
CONCURRENT = 50


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _wall(ts: datetime) -> float:
    return ts.replace(tzinfo=timezone.utc).timestamp() if ts.tzinfo is None else ts.timestamp()


async def bench(rounds: int, database_url: str, messages_per_second: float) -> None:
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
            await tg.wait_for(lambda: len(tg.sent) >= before + CONCURRENT, timeout=120)
            if round_ == 0:
                started = time.perf_counter()
                continue
            for message in tg.sent[before:]:
                answered.append(message.at - injected_at[message.chat_id])
            with stack.sessions() as session:
                rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reply")
                                       .order_by(OutboxMessage.id.desc()).limit(CONCURRENT))
                handled.extend(_wall(r.created_at) - wall_at[int(r.destination)] for r in rows)
        elapsed = time.perf_counter() - started
    total = rounds * CONCURRENT
    print(f"{rounds} rounds x {CONCURRENT} concurrent commands ({', '.join(COMMANDS)}), SQLite file store")
    for name, values in (("handled (in the outbox)", handled), ("answered (at the Bot API)", answered)):
        ms = [v * 1000 for v in values]
        print(f"  {name:<26} p50 {percentile(ms, 50):7.1f} ms   p99 {percentile(ms, 99):7.1f} ms   "
              f"mean {statistics.fmean(ms):7.1f} ms   max {max(ms):7.1f} ms")
    print(f"  throughput {total / elapsed:.1f} commands/s over {elapsed:.1f} s "
          f"(rate limiter at {messages_per_second:g} messages/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages-per-second", type=float, default=25.0,
                        help="the rate limiter's overall rate (Telegram allows about 30)")
    parser.add_argument("--wal", action="store_true",
                        help="SQLite in WAL mode with synchronous=NORMAL (what-if; the store default is rollback journal)")
    args = parser.parse_args()
    if args.wal:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "connect")
        def _wal(connection, _record):  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(bench(args.rounds, f"sqlite:///{directory}/bench.db", args.messages_per_second))


if __name__ == "__main__":
    main()
