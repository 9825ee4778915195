"""An operator's latency under load, this checkout against another (--before DIR), side by side in one run.

The real python-telegram-bot Application polls the fake Bot API on 127.0.0.1 (tests/fake_telegram.py),
on a SQLite file store. Three situations (issue 13, findings 1 and 8):
  flood:  300 strangers send /start, then the operator /status in the same batch of updates; the figure
          is the operator's answer (injected -> at the Bot API), against the same /status alone
  locked: another OS process holds BEGIN EXCLUSIVE on the store for --hold seconds while the operator
          sends /pause; the figures are whether it was applied, answered and logged, how long after the
          release the answer came, and the event loop's longest stall (a task that asks to wake every 20 ms)
  eval:   four subscribers send /eval, then the operator /pause; the figure is the pause's answer, and
          how many evaluation runs were written
Each checkout runs in a child process of its own (its modules, its tests/ fakes). Prints figures and
ratios; asserts nothing.
Run: .venv/bin/python bench/bot_load.py [--before DIR] [--hold S]
     (DIR: another checkout, e.g. `git worktree add /tmp/tb-before main`)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import ROOT, emit, load_average, product_root, run_child, use_product

STRANGERS = 300
HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
print("released", flush=True)
"""


class Stalls:
    """The event loop's longest stall: how late a task that asks to wake every 20 ms woke, at worst."""

    def __init__(self) -> None:
        self.longest = 0.0

    async def run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.02)
            self.longest = max(self.longest, time.perf_counter() - asked - 0.02)


async def _answered(tg: Any, chat: int, count: int, timeout: float) -> bool:
    try:
        await tg.wait_for(lambda: len(tg.to(chat)) >= count, timeout=timeout)
        return True
    except AssertionError:
        return False


async def flood(url: str) -> dict[str, float]:
    from tests.chat_fixtures import OPERATOR, chat_stack

    async with chat_stack(database_url=url) as stack:
        tg = stack.telegram
        tg.command(OPERATOR, "/status")  # warm: first queries, the templates
        await _answered(tg, OPERATOR, 1, 30)
        began = time.monotonic()
        tg.command(OPERATOR, "/status")
        await _answered(tg, OPERATOR, 2, 30)
        alone = tg.to(OPERATOR)[1].at - began
        for user in range(500_000, 500_000 + STRANGERS):
            tg.command(user, "/start")
        began = time.monotonic()
        tg.command(OPERATOR, "/status")
        answered = await _answered(tg, OPERATOR, 3, 120)
        under_flood = tg.to(OPERATOR)[2].at - began if answered else float("nan")
    return {"alone_s": alone, "under_flood_s": under_flood}


async def locked(url: str, hold: float) -> dict[str, float]:
    from sqlalchemy import select

    from storage.chat_models import ChatCommandLog
    from tests.chat_fixtures import OPERATOR, chat_stack
    from trading.state import TradingState, read_state

    path = url[len("sqlite:///"):]
    stalls = Stalls()
    async with chat_stack(database_url=url) as stack:
        tg = stack.telegram
        watching = asyncio.create_task(stalls.run())
        tg.command(OPERATOR, "/resume")
        await _answered(tg, OPERATOR, 1, 30)
        holder = await asyncio.create_subprocess_exec(sys.executable, "-c", HOLDER, path, str(hold),
                                                      stdout=asyncio.subprocess.PIPE)
        assert holder.stdout is not None
        await holder.stdout.readline()
        tg.command(OPERATOR, "/pause")
        await holder.stdout.readline()
        released = time.monotonic()
        await holder.wait()
        answered = await _answered(tg, OPERATOR, 2, 20)
        reply = tg.to(OPERATOR)[1] if answered else None
        with stack.sessions() as session:
            state = read_state(session).state
            logged = len(session.scalars(select(ChatCommandLog).where(ChatCommandLog.command == "pause")).all())
        watching.cancel()
    return {"applied": float(state is TradingState.HALTED), "answered": float(answered),
            "answer_says_halted": float(reply is not None and "HALTED" in reply.text), "logged": float(logged),
            "answer_after_release_s": (reply.at - released) if reply is not None else float("nan"),
            "longest_stall_s": stalls.longest}


async def evaluations(url: str, clock_at: Any) -> dict[str, float]:
    from intelligence.types import Direction
    from tests.chat_fixtures import MARKET_TIME, OPERATOR, SUBSCRIBER, chat_stack, seed_run, shifted_clock

    readers = [SUBSCRIBER + i for i in range(4)]
    async with chat_stack(shifted_clock(clock_at), database_url=url, telegram_subscribers=readers) as stack:
        tg = stack.telegram
        seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8), ("ETH", Direction.SELL, 0.53, 0.4)])
        tg.command(OPERATOR, "/status")
        await _answered(tg, OPERATOR, 1, 30)
        for reader in readers:
            tg.command(reader, "/eval")
        await asyncio.sleep(0.2)
        began = time.monotonic()
        tg.command(OPERATOR, "/pause")
        await _answered(tg, OPERATOR, 2, 120)
        pause = tg.to(OPERATOR)[1].at - began
        for reader in readers:
            await _answered(tg, reader, 2, 120)
    return {"pause_s": pause}


def child(root: Path, scenario: str, hold: float) -> dict[str, float]:
    from datetime import datetime, timezone

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/bench.db"
        import os

        os.chdir(scratch)  # eval_runs/ goes here
        if scenario == "flood":
            return asyncio.run(flood(url))
        if scenario == "locked":
            return asyncio.run(locked(url, hold))
        result = asyncio.run(evaluations(url, datetime(2025, 12, 20, 12, tzinfo=timezone.utc)))
        runs = Path(scratch) / "eval_runs"
        return result | {"eval_runs_written": float(len(list(runs.iterdir())) if runs.is_dir() else 0)}


def measure(root: Path, scenario: str, hold: float) -> dict[str, float]:
    run = run_child([sys.executable, str(Path(__file__).resolve()), "--root", str(root), "--child", scenario,
                     "--hold", str(hold)])
    if run.returncode != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-8:])
        print(f"  {root}: {scenario} failed ({run.returncode}):\n{tail}")
        return {}
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout measured (default: this one)")
    parser.add_argument("--before", type=Path, help="another checkout to measure beside it, e.g. main before the fix")
    parser.add_argument("--hold", type=float, default=8.0, help="seconds the other process holds the store (> 5 s)")
    parser.add_argument("--child", choices=("flood", "locked", "eval"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.root, args.child, args.hold)))
        return
    roots = {"after": args.root.resolve()} | ({"before": args.before.resolve()} if args.before else {})
    print(f"operator latency under load; load {load_average()}")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for scenario in ("flood", "locked", "eval"):
        for name, root in roots.items():
            results.setdefault(name, {})[scenario] = figures = measure(root, scenario, args.hold)
            shown = ", ".join(f"{k} {v:.3g}" for k, v in figures.items())
            print(f"  {scenario:<7} {name:<7} {shown}   ({root})")
    if "before" in results:
        for scenario, key in (("flood", "under_flood_s"), ("locked", "longest_stall_s"), ("eval", "pause_s")):
            before, after = results["before"].get(scenario, {}).get(key), results["after"].get(scenario, {}).get(key)
            if before and after:
                print(f"  {scenario}: {key} before/after = {before / after:.1f}x")
    emit({f"{name}_{scenario}_{k}": v for name, per in results.items() for scenario, figures in per.items()
          for k, v in figures.items()})


if __name__ == "__main__":
    use_product(product_root())
    main()
