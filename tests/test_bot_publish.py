"""What the core says through chat: proposals with buttons, strong signals, scheduled digests; tokens never logged."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from service.chat_ops import SubscriptionError
from trading.alerts import Alert
from intelligence.types import Direction
from storage.chat_models import OutboxMessage
from tests.chat_fixtures import (GROUP, MARKET_TIME, OPERATOR, STRANGER, SUBSCRIBER, TOKEN, chat_stack, run,
                                 seed_proposal, seed_run, shifted_clock, utc)
from tests.fake_discord import WEBHOOK_TOKEN


def test_a_cycle_sends_its_proposal_to_operators_and_strong_signals_to_who_asked() -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME)) as stack:
            service, tg = stack.runtime.service, stack.telegram
            service.subscribe(SUBSCRIBER, "t", "08:00", "UTC", immediate_alerts=True)
            service.subscribe(GROUP, "t", "08:00", "UTC", immediate_alerts=False)
            service.subscribe(STRANGER, "t", "08:00", "UTC", immediate_alerts=True)  # no longer listed: skipped
            run_id, signals = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.58, 0.8),
                                                                     ("ETH", Direction.SELL, 0.52, 0.3),
                                                                     ("BTC", Direction.HOLD, None, 0.9)])
            pid = seed_proposal(stack.sessions, signals[0], MARKET_TIME)
            stack.runtime.publisher.cycle_finished(run_id, pid)
            stack.runtime.publisher.cycle_finished(run_id, pid)  # a second call changes nothing
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1 and len(tg.to(SUBSCRIBER)) == 1)
            await stack.discord.wait_for(lambda: len(stack.discord.received) == 1)
            await asyncio.sleep(0.2)
            card = tg.to(OPERATOR)[0]
            version = service.proposal(pid).version
            assert card.text.startswith(f"Trade proposal #{pid}") and card.keyboard[0][0]["callback_data"] == f"approve:{pid}:{version}"
            alert = tg.to(SUBSCRIBER)[0]
            assert alert.text.startswith("Strong signal: SOL BUY") and "58% chance right" in alert.text
            assert tg.to(GROUP) == [] and tg.to(STRANGER) == [] and len(tg.sent) == 2

    run(scenario())


def test_the_scheduled_digest_goes_out_once_a_day_at_local_time() -> None:
    now = [utc(2025, 12, 13, 6, 59)]  # 07:59 in Berlin

    async def scenario() -> None:
        async with chat_stack(lambda: now[0]) as stack:
            service, tg = stack.runtime.service, stack.telegram
            seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            service.subscribe(SUBSCRIBER, "t", "08:00", "Europe/Berlin", True)
            service.subscribe(GROUP, "t", "06:00", "America/New_York", True)  # 01:59 there
            await asyncio.sleep(0.2)
            assert tg.sent == []
            now[0] = utc(2025, 12, 13, 7, 1)  # 08:01 in Berlin
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 1)
            await asyncio.sleep(0.2)
            assert tg.to(GROUP) == [] and len(tg.sent) == 1
            now[0] = utc(2025, 12, 13, 11, 30)  # 06:30 in New York, the next morning nothing new in Berlin
            await tg.wait_for(lambda: len(tg.to(GROUP)) == 1)
            now[0] = utc(2025, 12, 14, 7, 5)  # the next day in Berlin
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 2)
            assert tg.to(SUBSCRIBER)[1].text.startswith("Tracer Bullet digest as of 2025-12-13 11:00 UTC")
            service.unsubscribe(SUBSCRIBER, "t")
            now[0] = utc(2025, 12, 15, 7, 5)
            await asyncio.sleep(0.2)
            assert len(tg.to(SUBSCRIBER)) == 2

    run(scenario())


def test_subscription_arguments_are_checked() -> None:
    async def scenario() -> None:
        async with chat_stack(start=False) as stack:
            service = stack.runtime.service
            for time_, zone in (("7.30", "UTC"), ("24:00", "UTC"), ("08:00", "Berlin"), ("08:00", "../etc/passwd")):
                try:
                    service.subscribe(SUBSCRIBER, "t", time_, zone, True)
                except SubscriptionError as exc:
                    assert "HH:MM" in str(exc) or "IANA" in str(exc)
                else:
                    raise AssertionError(f"{time_} {zone} accepted")
            assert service.subscription(SUBSCRIBER) is None
            view = service.subscribe(SUBSCRIBER, "t")  # the configured defaults
            assert (view.digest_time, view.timezone, view.immediate_alerts) == ("08:00", "UTC", True)

    run(scenario())


def test_tokens_never_reach_a_log_or_the_store(caplog) -> None:
    async def scenario() -> None:
        async with chat_stack(start=False) as stack:
            for name in ("httpx", "httpcore", "telegram", "aiohttp"):
                logging.getLogger(name).setLevel(logging.DEBUG)  # as chatty as a user could make them
            await stack.start_bot()
            stack.telegram.outage(status=500, methods={"sendMessage"})
            stack.telegram.command(OPERATOR, "/status")
            stack.runtime.publisher.alert(Alert("error", "boom", "error:1"))
            await stack.discord.wait_for(lambda: len(stack.discord.received) >= 2)
            stack.telegram.recover()
            await stack.telegram.wait_for(lambda: len(stack.telegram.sent) == 2)
            with stack.sessions() as session:
                stored = " ".join(f"{r.last_error} {r.payload}" for r in session.scalars(select(OutboxMessage)))
            assert TOKEN not in stored and WEBHOOK_TOKEN not in stored

    with caplog.at_level(logging.DEBUG):
        try:
            run(scenario())
        finally:
            for name in ("httpx", "httpcore"):
                logging.getLogger(name).setLevel(logging.WARNING)
            for name in ("telegram", "aiohttp"):
                logging.getLogger(name).setLevel(logging.NOTSET)
    text = caplog.text
    assert "getUpdates" in text and "sendMessage" in text  # the libraries did log their URLs...
    assert "<redacted>" in text
    assert TOKEN not in text and TOKEN.split(":")[1] not in text and WEBHOOK_TOKEN not in text  # ...without the secrets


def test_a_rejected_token_stops_the_bot_with_a_clear_log_line_and_no_token(caplog) -> None:
    async def scenario() -> None:
        async with chat_stack(start=False) as stack:
            stack.telegram.token = "1111111111:SomeoneElsesTokenSomeoneElsesToken00"
            stop = asyncio.Event()
            task = asyncio.create_task(stack.runtime.run(stop, 0.05))
            await asyncio.sleep(0.5)
            assert not stack.runtime.telegram_ready.is_set()
            stop.set()
            await task

    with caplog.at_level(logging.DEBUG):
        run(scenario())
    assert "Telegram rejected the bot token (TB_TELEGRAM_TOKEN)" in caplog.text
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def test_chat_settings_are_checked_at_start(monkeypatch) -> None:
    import pytest

    from config import ConfigError, load_settings

    monkeypatch.setenv("TB_DIGEST_TIME", "25:00")
    monkeypatch.setenv("TB_DIGEST_TIMEZONE", "Mars/Base")
    monkeypatch.setenv("TB_TELEGRAM_SUBSCRIBERS", "12,abc")
    monkeypatch.setenv("TB_TELEGRAM_TOKEN", TOKEN)
    with pytest.raises(ConfigError) as error:
        load_settings()
    text = str(error.value)
    assert "TB_DIGEST_TIME" in text and "TB_DIGEST_TIMEZONE" in text and "TB_TELEGRAM_SUBSCRIBERS" in text
    assert TOKEN not in text
