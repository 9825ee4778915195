"""`serve` as a real process against loopback fakes of everything outside: Telegram's Bot API, a Discord
webhook, feeds over HTTP, Alpaca market data and Alpaca trading. It runs two cycles, is stopped with
SIGTERM in the middle of the third, and is started again on the same store: the schedules are kept,
the digest went out once, the order was sent once, and what the outbox held when it stopped is
delivered after the restart. The same on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from service.composition import utcnow
from serve.lease import current_lease
from service.composition import build_app
from config import load_settings
from storage.chat_models import ChatSubscription, OutboxMessage
from storage.db import open_store
from storage.models import Run
from storage.serve_models import scheduler_jobs
from storage.trading_models import OrderRow
from tests import fake_alpaca, fake_alpaca_data
from tests.chat_fixtures import OPERATOR, SUBSCRIBER, TOKEN
from tests.fake_alpaca import FakeAlpaca
from tests.fake_alpaca_data import FakeAlpacaData
from tests.fake_discord import FakeDiscordWebhook
from tests.fake_telegram import FakeTelegram
from tests.feed_server import FeedServer, Route
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401
from tests.serve_harness import CRYPTO, PresentMarket, ServeProcess
from tests.snapshot_fixtures import CALL_AS_OF

pytestmark = pytest.mark.slow  # two processes, four cycles, a delayed feed: about twenty seconds


def _env(url: str, tmp: Path, telegram: FakeTelegram, discord: FakeDiscordWebhook, feeds: FeedServer,
         market: PresentMarket, data: FakeAlpacaData, trading: FakeAlpaca) -> dict[str, str]:
    return {
        "TB_DATABASE_URL": url, "TB_ARTIFACTS_DIR": str(tmp / "artifacts"), "TB_EVAL_RUNS_DIR": str(tmp / "eval_runs"),
        "TB_TELEGRAM_TOKEN": TOKEN, "TB_TELEGRAM_BASE_URL": telegram.base_url,
        "TB_TELEGRAM_OPERATORS": str(OPERATOR), "TB_TELEGRAM_SUBSCRIBERS": str(SUBSCRIBER),
        "TB_TELEGRAM_POLL_SECONDS": "1", "TB_CHAT_TIMEOUT_SECONDS": "2", "TB_OUTBOX_BACKOFF_SECONDS": "0.05",
        "TB_OUTBOX_BACKOFF_MAX_SECONDS": "0.5", "TB_OUTBOX_POLL_SECONDS": "0.1", "TB_DISCORD_WEBHOOK_URL": discord.url,
        "TB_NEWS_SOURCES": "rss", "TB_MARKET_DATA": "alpaca", "TB_SENTIMENT_BACKEND": "embedded",
        "TB_UNIVERSE": ",".join(CRYPTO),
        # Bars back to the snapshot's first day: the call's base rate is the one the embedded run sees.
        "TB_ALPACA_BAR_LOOKBACK_DAYS": "45",
        "TB_FEEDS": json.dumps({name: feeds.url(path) for name, path in market.names.items()}),
        "TB_ALPACA_KEY": fake_alpaca_data.KEY, "TB_ALPACA_SECRET": fake_alpaca_data.SECRET,
        "TB_ALPACA_DATA_URL": data.url, "TB_ALPACA_TRADING_URL": trading.url,
        "TB_AUTO_APPROVE_PROBABILITY": "0.501", "TB_MIN_PROBABILITY": "0.5",
        "TB_CYCLE_SECONDS": "3", "TB_TRADING_TICK_SECONDS": "2", "TB_DIGEST_CHECK_SECONDS": "1",
        "TB_LEASE_SECONDS": "6", "TB_SHUTDOWN_GRACE_SECONDS": "30", "TB_PROVIDER_READ_TIMEOUT_SECONDS": "20",
    }


def _finished(sessions) -> list[Run]:
    with sessions() as session:
        return [r for r in session.scalars(select(Run).order_by(Run.id)) if r.status in ("ok", "degraded")]


def _jobs(sessions) -> dict[str, float | None]:
    with sessions() as session:
        return {row.id: row.next_run_time for row in session.execute(select(scheduler_jobs))}


def test_serve_survives_sigterm_mid_cycle_and_a_restart(database_url: str, tmp_path: Path, monkeypatch) -> None:
    # One key pair for both Alpaca fakes, as for the real Alpaca.
    monkeypatch.setattr(fake_alpaca, "KEY", fake_alpaca_data.KEY)
    monkeypatch.setattr(fake_alpaca, "SECRET", fake_alpaca_data.SECRET)
    market = PresentMarket.at(datetime.now(timezone.utc), cutoff=CALL_AS_OF)  # where the engine makes a call
    feeds = FeedServer().start()
    for path, body in market.feeds.items():
        feeds.routes[path] = Route(body, etag=f'"{path[1:]}-1"')
    data = FakeAlpacaData(bars=market.bars, page_size=1000).start()
    trading = FakeAlpaca(prices=market.prices).start()
    sessions = open_store(database_url)
    # A subscriber since yesterday whose digest time has passed today: due as soon as a cycle has finished.
    build_app(load_settings(database_url=database_url), sessions=sessions, clock=utcnow).service.subscribe(
        SUBSCRIBER, "test", digest_time="00:00", timezone="UTC", immediate_alerts=False)
    with sessions.begin() as session:
        session.get_one(ChatSubscription, SUBSCRIBER).last_digest_on = (date.today() - timedelta(days=1)).isoformat()
    try:
        asyncio.run(_scenario(database_url, tmp_path, sessions, feeds, market, data, trading))
    finally:
        feeds.stop()
        data.stop()
        trading.stop()


async def _scenario(url: str, tmp: Path, sessions, feeds: FeedServer, market: PresentMarket, data: FakeAlpacaData,
                    trading: FakeAlpaca) -> None:
    telegram, discord = FakeTelegram(TOKEN), FakeDiscordWebhook()
    await telegram.start()
    await discord.start()
    env = _env(url, tmp, telegram, discord, feeds, market, data, trading)
    log = tmp / "serve.log"
    first = second = None
    try:
        first = await ServeProcess(env, tmp, log).start()
        await first.wait_log("serve ready as", timeout=60)
        await first.wait_for(lambda: len(_finished(sessions)) >= 2, 60, "two cycles")
        await first.wait_for(lambda: len(trading.posted) == 1, 30, "the auto-approved order")
        await telegram.wait_for(lambda: any(m.text.startswith("Tracer Bullet digest") for m in telegram.to(SUBSCRIBER)), 30)
        before = _jobs(sessions)

        # Telegram goes down and the feeds get slow; the operator asks for /status meanwhile.
        telegram.outage()
        for route in feeds.routes.values():
            route.delay = 1.0  # five feeds, one after the other: a cycle of five seconds
        telegram.command(OPERATOR, "/status")
        finished = len(_finished(sessions))
        await first.wait_for(lambda: _running(sessions) is not None and len(_finished(sessions)) == finished, 30,
                             "a cycle in progress")
        interrupted = _running(sessions)
        assert await first.stop() == 0  # SIGTERM in the middle of that cycle
        with sessions() as session:
            assert session.get_one(Run, interrupted).status in ("ok", "degraded")  # it finished within the grace
        assert any("serve stopped; trader lease released" in m for m in first.messages())
        lease = current_lease(sessions)
        assert lease is not None and not lease.active(datetime.now(timezone.utc))
        waiting = _pending(sessions)
        assert any(row.kind == "reply" for row in waiting)  # the /status answer could not go out yet

        telegram.recover()
        for route in feeds.routes.values():
            route.delay = 0.0
        second = await ServeProcess(env, tmp, log).start()
        await second.wait_log("serve ready as", timeout=60)
        assert any("scheduler jobs: kept cycle, trading, digests, resolve, weekly-evaluation, outbox, retention; "
                   "added none; replaced none; removed none" in m for m in second.messages())
        after = _jobs(sessions)
        assert after["weekly-evaluation"] == before["weekly-evaluation"] and after["resolve"] == before["resolve"]
        runs = len(_finished(sessions))
        await second.wait_for(lambda: len(_finished(sessions)) > runs and not _pending(sessions), 60,
                              "another cycle and an empty outbox")
        assert await second.stop() == 0

        statuses = [m for m in telegram.to(OPERATOR) if m.text.startswith("Status")]
        assert len(statuses) == 1  # the answer queued before the stop, delivered once after the restart
        digests = [m for m in telegram.to(SUBSCRIBER) if m.text.startswith("Tracer Bullet digest")]
        assert len(digests) == 1  # restarting did not send today's digest again
        with sessions() as session:
            digest_rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).all()
            assert len(digest_rows) == 1
            assert {r.status for r in session.scalars(select(OutboxMessage))} == {"sent"}
            orders = session.scalars(select(OrderRow).where(OrderRow.role == "entry")).all()
        posted = [o["client_order_id"] for o in trading.posted]
        assert len(posted) == len(set(posted)) == 1 and [o.client_order_id for o in orders] == posted
        assert TOKEN not in log.read_text() and fake_alpaca_data.SECRET not in log.read_text()
    finally:
        for process in (first, second):
            if process is not None:
                await process.kill()
        await telegram.stop()
        await discord.stop()


def _running(sessions) -> int | None:
    with sessions() as session:
        return session.scalar(select(Run.id).where(Run.status == "running").order_by(Run.id.desc()).limit(1))


def _pending(sessions) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")))
