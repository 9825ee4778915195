"""Roles and load (issue 13, finding 8), through the real python-telegram-bot Application and the fake
Bot API: who makes a group readable, a flood of strangers, and readers' /eval beside an operator.

Before: a subscriber's /subscribe in a group made every member a reader; 300 strangers' /start were
each answered through the same rate limit as the operators' answers (the operator's /status waited
behind them); each reader /eval wrote an evaluation run and held the turn operators' commands take.
bench/bot_latency.py measures the operator's latency under the flood, before and after.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import select

from intelligence.types import Direction
from storage.chat_models import ChatCommandLog, ChatSubscription
from tests.chat_fixtures import (GROUP, MARKET_TIME, OPERATOR, STRANGER, SUBSCRIBER, chat_stack, run, seed_run,
                                 shifted_clock, utc)
from trading.state import TradingState, read_state

FLOOD = 300


def _log(sessions) -> list[ChatCommandLog]:
    with sessions() as session:
        return list(session.scalars(select(ChatCommandLog).order_by(ChatCommandLog.id)))


async def _until(condition, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_only_an_operators_subscription_makes_a_group_readable() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            tg = stack.telegram
            tg.command(SUBSCRIBER, "/subscribe 09:00", GROUP, "group")
            await tg.wait_for(lambda: len(tg.to(GROUP)) == 1)
            assert "Only an operator can subscribe a group" in tg.to(GROUP)[0].text
            assert stack.runtime.service.subscription(GROUP) is None
            # A group a subscriber subscribed before this rule (a row the store already has): nobody reads there.
            stack.runtime.service.subscribe(GROUP, f"telegram:{SUBSCRIBER}", "09:00", "UTC")
            tg.command(STRANGER, "/status", GROUP, "group")
            await tg.wait_for(lambda: len(tg.to(GROUP)) == 2)
            assert "not allowed" in tg.to(GROUP)[1].text
            # The subscriber may subscribe their own private chat; the operator makes the group readable.
            tg.command(SUBSCRIBER, "/subscribe 07:00")
            tg.command(OPERATOR, "/subscribe 09:00", GROUP, "group")
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 1 and len(tg.to(GROUP)) == 3)
            assert "Subscribed" in tg.to(SUBSCRIBER)[0].text and "Subscribed" in tg.to(GROUP)[2].text
            tg.command(STRANGER + 1, "/status", GROUP, "group")
            await tg.wait_for(lambda: len(tg.to(GROUP)) == 4)
            assert "Trading state: ACTIVE" in tg.to(GROUP)[3].text
            tg.command(SUBSCRIBER, "/unsubscribe", GROUP, "group")  # nor may a subscriber unsubscribe it
            await tg.wait_for(lambda: len(tg.to(GROUP)) == 5)
            assert "Only an operator can unsubscribe a group" in tg.to(GROUP)[4].text
            with stack.sessions() as session:
                row = session.get_one(ChatSubscription, GROUP)
                assert row.active and row.updated_by == f"telegram:{OPERATOR}"
            roles = [(r.command, r.role, r.allowed, r.outcome) for r in _log(stack.sessions)]
        assert roles[0] == ("subscribe", "subscriber", False, "REFUSED")
        assert ("status", "stranger", False, "REFUSED") in roles and ("status", "reader", True, "OK") in roles

    run(scenario())


def test_a_flood_of_strangers_is_answered_once_each_and_never_ahead_of_an_operator() -> None:
    async def scenario() -> None:
        async with chat_stack(telegram_refusals_per_second=5.0, outbox_poll_seconds=0.05) as stack:
            tg = stack.telegram
            strangers = range(500_000, 500_000 + FLOOD)
            for user in strangers:
                tg.command(user, "/start")
            for user in list(strangers)[:50]:  # some try again at once: logged, not answered again
                tg.command(user, "/start")
            await _until(lambda: len(_log(stack.sessions)) >= FLOOD + 50, timeout=60)
            asked = time.monotonic()
            tg.command(OPERATOR, "/status")
            await tg.wait_for(lambda: bool(tg.to(OPERATOR)), timeout=30)
            ahead = [m for m in tg.sent if m.chat_id != OPERATOR and asked < m.at < tg.to(OPERATOR)[0].at]
            await asyncio.sleep(1.0)
            refusals = [m for m in tg.sent if m.chat_id != OPERATOR]
            log = _log(stack.sessions)
        assert tg.to(OPERATOR)[0].text.startswith("Status")
        # Refusals go on a budget of their own (5 a second here): the operator's answer did not wait for the
        # hundreds queued before it, at most for what was already in flight.
        assert len(ahead) < 10, len(ahead)
        assert len(refusals) < FLOOD and all(m.text.startswith("Sorry, this bot is private") for m in refusals)
        assert len({m.chat_id for m in refusals}) == len(refusals)  # never twice to one stranger
        assert sum(1 for r in log if r.role == "stranger" and not r.allowed) == FLOOD + 50  # every attempt logged

    run(scenario())


def test_readers_eval_is_made_once_and_never_holds_up_an_operators_pause(tmp_path: Path) -> None:
    readers = [SUBSCRIBER, SUBSCRIBER + 1, SUBSCRIBER + 2, SUBSCRIBER + 3]

    async def scenario() -> None:
        async with chat_stack(shifted_clock(utc(2025, 12, 20, 12)), telegram_subscribers=readers) as stack:
            tg = stack.telegram
            seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8), ("ETH", Direction.SELL, 0.53, 0.4)])
            for reader in readers:
                tg.command(reader, "/eval")
            await asyncio.sleep(0.2)  # the evaluation is under way
            tg.command(OPERATOR, "/pause")
            await tg.wait_for(lambda: all(len(tg.to(r)) == 2 for r in readers) and bool(tg.to(OPERATOR)), timeout=120)
            paused = tg.to(OPERATOR)[0]
            evals = [tg.to(r)[0] for r in readers]
            assert "ACTIVE -> HALTED" in paused.text
            with stack.sessions() as session:
                assert read_state(session).state is TradingState.HALTED
            assert all(m.text.startswith("Weekly evaluation") for m in evals)
            assert len({m.text for m in evals}) == 1  # one summary for the four
            assert paused.at < min(m.at for m in evals)  # not queued behind the evaluation
        runs = [d for d in (tmp_path / "eval_runs").iterdir() if d.is_dir()]
        assert len(runs) == 1, runs  # made once, not once per reader

    run(scenario())
