"""Nothing lost: Telegram and Discord outages, rate limits, blocked chats and restarts, through the outbox."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from trading.alerts import Alert
from intelligence.types import Direction
from storage.chat_models import OutboxMessage
from tests.chat_fixtures import GROUP, OPERATOR, SUBSCRIBER, chat_stack, run, seed_run


def _rows(sessions) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _make_digests_due(stack, *chats: int) -> int:
    """A finished run, and subscriptions whose digest for today has not gone out yet."""
    run_id, _ = seed_run(stack.sessions, stack.runtime.service._clock(), [("SOL", Direction.BUY, 0.56, 0.8)])
    service = stack.runtime.service
    for chat in chats:
        service.subscribe(chat, "test", "00:00", "UTC", True)
        service.mark_digest_sent(chat, "2000-01-01")  # as if the last digest went out long ago
    return run_id


def test_telegram_5xx_outage_then_recovery_delivers_everything_once_and_discord_hears_of_it() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            tg, dc = stack.telegram, stack.discord
            tg.outage(status=502)
            run_id = _make_digests_due(stack, SUBSCRIBER, GROUP)
            for n in range(3):
                stack.runtime.publisher.alert(Alert("halt", f"Trading halted ({n})", f"halt:{n}"))
            stack.runtime.publisher.due_digests()  # the bot's schedule does this too: still one digest per chat
            # Discord: the three halts (mirrored anyway), one outage notice, one backup of the digest.
            await dc.wait_for(lambda: len(dc.received) >= 5)
            titles = [m["embeds"][0].get("title") for m in dc.received]
            assert titles.count("Trading halted") == 3 and titles.count("Channel outage") == 1
            assert sum(t.startswith("Tracer Bullet digest") for t in titles) == 1  # one per run, not per chat
            assert tg.sent == []
            await asyncio.sleep(0.5)  # several retries while it is down
            heads = {}  # the first message per chat is retried; the ones behind it wait their turn
            for r in _rows(stack.sessions):
                if r.channel == "telegram":
                    heads.setdefault(r.destination, r)
            assert all(r.attempts >= 2 for r in heads.values()) and len(heads) == 3
            tg.recover()
            await tg.wait_for(lambda: len(tg.sent) == 5)
            assert [m.text for m in tg.to(OPERATOR)] == [f"Trading halted\n\nTrading halted ({n})" for n in range(3)]
            for chat in (SUBSCRIBER, GROUP):
                assert len(tg.to(chat)) == 1 and tg.to(chat)[0].text.startswith("Tracer Bullet digest")
            await asyncio.sleep(0.2)
            assert len(tg.sent) == 5 and len(dc.received) == 5  # nothing twice
            assert {r.status for r in _rows(stack.sessions)} == {"sent"}
            assert stack.runtime.outbox.counts() == {"sent": 10}
            assert run_id

    run(scenario())


def test_telegram_timing_out_is_retried_until_it_answers() -> None:
    async def scenario() -> None:
        async with chat_stack(chat_timeout_seconds=0.3) as stack:
            tg = stack.telegram
            # Longer than a send waits for its answer (4 x the 0.3 s HTTP timeout, bot/telegram_sender.py).
            tg.outage(hang=1.5, methods={"sendMessage"})
            stack.runtime.publisher.alert(Alert("error", "Broker unreachable", "error:1"))
            await stack.discord.wait_for(lambda: any(m["embeds"][0].get("title") == "Channel outage"
                                                     for m in stack.discord.received))
            outage = [m for m in stack.discord.received if m["embeds"][0].get("title") == "Channel outage"][0]
            assert "Timed out" in outage["embeds"][0]["description"] or "timed out" in outage["embeds"][0]["description"]
            tg.recover()
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1)
            assert tg.to(OPERATOR)[0].text == "Error\n\nBroker unreachable"
            await asyncio.sleep(0.5)
            assert len(tg.to(OPERATOR)) == 1  # the fake never showed the timed-out sends: one copy

    run(scenario())


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # raised inside PTB's RetryAfter
def test_telegram_429_retry_after_is_honoured_without_an_outage_alarm() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            tg = stack.telegram
            tg.fail("sendMessage", retry_after=1)
            tg.command(OPERATOR, "/status")
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1, timeout=5)
            sends = [at for method, at in tg.calls if method == "sendMessage"]
            assert len(sends) == 2 and sends[1] - sends[0] >= 1.0
            await tg.wait_for(lambda: _rows(stack.sessions)[0].status == "sent")
            assert _rows(stack.sessions)[0].attempts == 1  # one deferral, not counted as a failure streak
            await asyncio.sleep(0.1)
            assert stack.discord.received == []  # a rate limit is not an outage

    run(scenario())


def test_a_multipart_message_resumes_where_it_stopped() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            tg = stack.telegram
            tg.fail("sendMessage", times=2, after=1, status=500)  # part 1 goes, part 2 fails twice
            text = "\n".join(f"line {n} " + "x" * 90 for n in range(120))  # about three messages
            stack.runtime.publisher.alert(Alert("reconciliation", text, "recon:1"))
            await tg.wait_for(lambda: sum(len(m.text) for m in tg.to(OPERATOR)) >= len(text))
            parts = [m.text for m in tg.to(OPERATOR)]
            assert len(parts) == 3
            assert "\n".join(p.strip("\n") for p in parts) == "Reconciliation\n\n" + text

    run(scenario())


def test_a_blocked_chat_fails_alone_and_its_digest_goes_to_discord() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            tg, dc = stack.telegram, stack.discord
            tg.blocked.add(SUBSCRIBER)
            _make_digests_due(stack, SUBSCRIBER, GROUP)
            await tg.wait_for(lambda: len(tg.to(GROUP)) == 1)
            await dc.wait_for(lambda: len(dc.received) == 1)
            rows = {r.destination: r for r in _rows(stack.sessions)}
            assert rows[str(SUBSCRIBER)].status == "failed" and "blocked" in rows[str(SUBSCRIBER)].last_error
            assert rows[str(GROUP)].status == "sent"
            assert dc.received[0]["embeds"][0]["title"].startswith("Tracer Bullet digest")

    run(scenario())


def test_a_restart_with_messages_pending_loses_none(tmp_path) -> None:
    async def scenario() -> None:
        url = f"sqlite:///{tmp_path / 'restart.db'}"
        async with chat_stack(database_url=url) as stack:
            tg = stack.telegram
            tg.outage(status=503)
            for n in range(4):
                stack.runtime.publisher.alert(Alert("fill", f"Filled {n}", f"fill:{n}"))
            tg.command(OPERATOR, "/status")
            await stack.discord.wait_for(lambda: len(stack.discord.received) >= 5)  # 4 mirrors + the outage note
            await asyncio.sleep(0.2)
            await stack.stop_bot()
            pending = [r for r in _rows(stack.sessions) if r.status == "pending"]
            assert len(pending) == 5 and tg.sent == []
            # A new process: new engine on the same file, new runtime; Telegram is back.
            from storage.db import open_store

            stack.sessions = open_store(url)
            stack.restart()
            tg.recover()
            await stack.start_bot()
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 5)
            texts = [m.text for m in tg.to(OPERATOR)]
            assert texts[:4] == [f"Order filled\n\nFilled {n}" for n in range(4)] and texts[4].startswith("Status")
            assert tg.pending_updates == 0  # the command was taken once, not again after the restart
            await asyncio.sleep(0.2)
            assert len(tg.sent) == 5
            assert all(r.status == "sent" for r in _rows(stack.sessions))

    run(scenario())


def test_the_same_alert_key_is_delivered_once() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            for _ in range(3):
                stack.runtime.publisher.alert(Alert("guard_breach", "Max position reached", "guard:max_position:1"))
            await stack.telegram.wait_for(lambda: len(stack.telegram.sent) == 1)
            await stack.discord.wait_for(lambda: len(stack.discord.received) == 1)
            await asyncio.sleep(0.2)
            assert len(stack.telegram.sent) == 1 and len(stack.discord.received) == 1

    run(scenario())


def test_discord_429_and_bucket_headers_are_honoured() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            dc = stack.discord
            dc.bucket_size, dc.bucket_reset = 2, 0.3
            dc.fail(retry_after=0.4)
            started = time.monotonic()
            for n in range(5):
                stack.runtime.publisher.alert(Alert("error", f"problem {n}", f"error:{n}"))
            await dc.wait_for(lambda: len(dc.received) == 5)
            assert time.monotonic() - started >= 0.4 + 0.3  # the 429 wait, then one empty bucket
            # One refused call (the scripted 429); the bucket was never overrun.
            assert len(dc.calls) == 6
            assert [m["embeds"][0]["description"] for m in dc.received] == [f"problem {n}" for n in range(5)]

    run(scenario())


def test_discord_outage_then_recovery_and_discord_only_configuration() -> None:
    async def scenario() -> None:
        async with chat_stack(telegram_token=None, start=False) as stack:
            stop = asyncio.Event()
            task = asyncio.create_task(stack.runtime.run(stop, 0.05))
            stack.discord.fail(times=3, status=503)
            stack.runtime.publisher.alert(Alert("fill", "Filled BUY 1 SOL", "fill:9"))
            await stack.discord.wait_for(lambda: len(stack.discord.received) == 1)
            assert len(stack.discord.calls) == 4
            # The outbox records the delivery in a worker thread, a moment after Discord has it.
            await stack.discord.wait_for(lambda: _rows(stack.sessions)[0].status == "sent")
            row = _rows(stack.sessions)[0]
            assert (row.channel, row.status, row.attempts) == ("discord", "sent", 3)
            stop.set()
            await task

    run(scenario())


def test_backoff_doubles_up_to_the_cap() -> None:
    from bot.delivery import Backoff

    backoff = Backoff(2.0, 300.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 8, 9, 50)] == [
        timedelta(seconds=s) for s in (2, 4, 8, 256, 300, 300)]


def test_a_broadcast_to_many_chats_respects_the_rate_limit() -> None:
    async def scenario() -> None:
        chats = list(range(50_001, 50_041))
        async with chat_stack(telegram_subscribers=chats, telegram_messages_per_second=20) as stack:
            _make_digests_due(stack, *chats)
            stack.runtime.publisher.due_digests()
            await stack.telegram.wait_for(lambda: len(stack.telegram.sent) == 40, timeout=15)
            times = sorted(m.at for m in stack.telegram.sent)
            # 20 may go at once (the bucket), the other 20 at 20 per second: about a second in all.
            assert times[-1] - times[0] >= 0.8
            assert {m.chat_id for m in stack.telegram.sent} == set(chats)

    run(scenario())


def test_telegram_down_at_start_the_bot_keeps_trying_and_nothing_waits_unseen() -> None:
    async def scenario() -> None:
        async with chat_stack(start=False) as stack:
            tg = stack.telegram
            tg.outage(status=502, methods={"getMe", "deleteWebhook", "getUpdates", "sendMessage"})
            stack.runtime.publisher.alert(Alert("halt", "Trading halted by the drawdown guard", "halt:7"))
            stop = asyncio.Event()
            stack.stop, stack.task = stop, asyncio.create_task(stack.runtime.run(stop, 0.05))
            await stack.discord.wait_for(lambda: len(stack.discord.received) == 2)  # the mirror and the outage note
            assert not stack.runtime.telegram_ready.is_set()
            tg.recover()
            await asyncio.wait_for(stack.runtime.telegram_ready.wait(), 10)
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1)
            tg.command(OPERATOR, "/status")
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 2)

    run(scenario())
