"""No chat command lost while another process holds the store (issue 13, finding 1, bot side).

The real python-telegram-bot Application against the fake Bot API over HTTP, on a SQLite file store
that a second OS process locks with BEGIN EXCLUSIVE. Before the fix the bot ran the command and
stored its reply on the event loop's thread: each attempt froze the loop for SQLite's 5 s busy wait,
then the command failed ("Something went wrong") or vanished with no answer and no log row.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from bot.loop_watch import LoopWatch
from storage.chat_models import ChatCommandLog
from tests.chat_fixtures import OPERATOR, SUBSCRIBER, chat_stack, run
from tests.conftest import REPO
from trading.state import TradingState, read_state

# Another process: BEGIN EXCLUSIVE on the store (the write lock, at once), held argv[2] seconds.
HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
print("released", flush=True)
"""


def _log(sessions) -> list[ChatCommandLog]:
    with sessions() as session:
        return list(session.scalars(select(ChatCommandLog).order_by(ChatCommandLog.id)))


def _state(sessions) -> TradingState:
    with sessions() as session:
        return read_state(session).state


async def _hold(path: str, seconds: float) -> asyncio.subprocess.Process:
    holder = await asyncio.create_subprocess_exec(sys.executable, "-c", HOLDER, path, str(seconds),
                                                  stdout=asyncio.subprocess.PIPE)
    assert holder.stdout is not None
    assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"locked"
    return holder


async def _scenario(path: str, hold: float) -> dict[str, float]:
    async with chat_stack(database_url=f"sqlite:///{path}") as stack:
        tg = stack.telegram
        watch = LoopWatch(interval=0.02)
        watching = asyncio.create_task(watch.run())
        # A row to lock on, and a first command so the store's schema and connections are warm.
        tg.command(OPERATOR, "/resume")
        await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1)
        holder = await _hold(path, hold)
        locked_at = time.monotonic()
        try:
            tg.command(OPERATOR, "/pause")
            tg.command(SUBSCRIBER, "/status")  # another chat: its answer, too, can only be queued once released
            assert holder.stdout is not None
            assert (await asyncio.wait_for(holder.stdout.readline(), hold + 30)).strip() == b"released"
            released_at = time.monotonic()
            # All the while the bot kept asking Telegram for updates: nothing froze the event loop.
            polls = [at for method, at in tg.calls if method == "getUpdates" and locked_at + 1 < at < released_at]
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 2 and bool(tg.to(SUBSCRIBER)), timeout=30)
        finally:
            if holder.returncode is None:
                holder.kill()
            await holder.wait()
        answered_after_release = tg.to(OPERATOR)[1].at - released_at
        paused = tg.to(OPERATOR)[1].text
        assert "ACTIVE -> HALTED" in paused, paused
        assert "waited" in paused and "for the store" in paused and "it is applied" in paused, paused
        assert _state(stack.sessions) is TradingState.HALTED
        tg.command(OPERATOR, "/status")
        await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 3)
        assert "Trading state: HALTED (paused)" in tg.to(OPERATOR)[2].text
        logged = [(r.command, r.outcome) for r in _log(stack.sessions)]
        assert logged.count(("pause", "OK")) == 1 and ("status", "OK") in logged, logged
        watching.cancel()
    return {"longest_stall": watch.longest, "polls_during_lock": len(polls),
            "answered_after_release": answered_after_release}


def _shell_status(path: str) -> dict[str, object]:
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TB_DATABASE_URL": f"sqlite:///{path}"}
    done = subprocess.run([sys.executable, str(REPO / "tracer_bullet.py"), "status", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _check(tmp_path, hold: float) -> None:
    path = str(tmp_path / "store.db")
    figures = run(_scenario(path, hold))
    assert _shell_status(path)["trading_state"] == "HALTED"
    print(f"lock held {hold:g} s: {figures}")
    assert figures["longest_stall"] < 1.0, figures  # the loop never waits on the store
    assert figures["polls_during_lock"] >= 2, figures  # long polls of 1 s went on
    assert figures["answered_after_release"] < 5.0, figures  # applied as soon as the store lets it


def test_pause_sent_while_another_process_holds_the_store_is_applied_and_answered(tmp_path) -> None:
    _check(tmp_path, 8.0)  # longer than SQLite's 5 s busy wait: before the fix the command failed


@pytest.mark.slow
def test_pause_waits_out_a_twenty_second_exclusive_lock(tmp_path) -> None:
    _check(tmp_path, 20.0)
