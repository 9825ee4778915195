"""Shared setup for the chat tests: the fake Bot API and Discord webhook, seeded store rows, a running bot."""
from __future__ import annotations

import asyncio
import shutil
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from service.composition import utcnow
from bot.runtime import ChatRuntime, build_runtime
from config import Settings, load_settings
from intelligence.types import Direction
from storage.db import Sessions, open_store
from storage.models import ProposalRow, Run, SignalRow
from storage.trading_models import ProposalPlanRow
from tests.fake_discord import FakeDiscordWebhook
from tests.fake_telegram import FakeTelegram
from tests.pg_fixtures import active_pg_url

# Shaped like a real token (digits, colon, 35 characters) so the shape-based redaction is tested too.
TOKEN = "7654321098:AAFakeTokenForTestsOnly_abcdefghijklmn"
OPERATOR, SUBSCRIBER, STRANGER = 1001, 2002, 3003
GROUP = -5005


def chat_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        database_url=database_url, telegram_token=TOKEN, telegram_operators=[OPERATOR],
        telegram_subscribers=[SUBSCRIBER], telegram_poll_seconds=1, chat_timeout_seconds=2.0,
        outbox_backoff_seconds=0.05, outbox_backoff_max_seconds=0.4, outbox_poll_seconds=0.05,
    )
    values.update(overrides)
    return load_settings(**values)


def seed_run(sessions: Sessions, as_of: datetime, signals: list[tuple[str, Direction, float | None, float]],
             status: str = "ok", problems: tuple[str, ...] = ()) -> tuple[int, list[int]]:
    """A finished run with (symbol, direction, probability, conviction) signals; returns run and signal ids."""
    with sessions.begin() as session:
        run = Run(started_at=as_of, finished_at=as_of, as_of=as_of, status=status, sentiment_backend="embedded",
                  headline_count=42, problems=list(problems))
        session.add(run)
        session.flush()
        rows = [SignalRow(run_id=run.id, symbol=symbol, as_of=as_of, direction=direction.value, probability=p,
                          conviction=conviction, horizon_hours=24.0, narrative_score=0.3, price_score=-0.1,
                          divergence=0.4, reason_codes=["DIVERGENCE_BULLISH"] if direction is Direction.BUY else ["NO_EDGE"],
                          evidence=f"Coverage of {symbol} leans one way while the tape leans the other <b>&amp;</b>.",
                          features={})
                for symbol, direction, p, conviction in signals]
        session.add_all(rows)
        session.flush()
        return run.id, [r.id for r in rows]


def seed_proposal(sessions: Sessions, signal_id: int, now: datetime, ttl: timedelta = timedelta(hours=4),
                  symbol: str = "SOL", quantity: float = 10.0, price: float = 140.0) -> int:
    with sessions.begin() as session:
        row = ProposalRow(signal_id=signal_id, symbol=symbol, side="buy", quantity=quantity, notional=quantity * price,
                          reference_price=price, probability=0.56, status="proposed", created_at=now,
                          expires_at=now + ttl, updated_at=now, updated_by="engine")
        session.add(row)
        session.flush()
        # What trading.proposal_builder records with every proposal: the suggestion and the stop.
        session.add(ProposalPlanRow(proposal_id=row.id, suggested_quantity=quantity, stop_distance=0.05,
                                    signal_as_of=now, quote_time=now))
        return row.id


@dataclass
class Stack:
    telegram: FakeTelegram
    discord: FakeDiscordWebhook
    runtime: ChatRuntime
    settings: Settings
    sessions: Sessions
    stop: asyncio.Event
    task: asyncio.Task[None] | None = None

    async def start_bot(self, digest_check_seconds: float = 0.05) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.runtime.run(self.stop, digest_check_seconds))
        await asyncio.wait_for(self.runtime.telegram_ready.wait(), 10)

    async def stop_bot(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 15)
            self.task = None

    def restart(self, clock: Callable[[], datetime] = utcnow) -> None:
        """A new process on the same store: fresh runtime, same fakes (call after stop_bot)."""
        self.runtime = build_runtime(self.settings, self.sessions, clock)


# The bot calls the store from worker threads (bot/store_calls.py), so a test's store is a file every
# thread opens (an in-memory SQLite store is one per thread). Migrating a new file takes half a second;
# copying one migrated template takes milliseconds.
_TEMPLATE: list[Path] = []


def fresh_store_url(directory: Path) -> str:
    """A SQLite file store in `directory`, a copy of one migrated when first asked (per test process)."""
    if not _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="tb-template-")) / "store.db"
        open_store(f"sqlite:///{template}").kw["bind"].dispose()
        _TEMPLATE.append(template)
    shutil.copyfile(_TEMPLATE[0], directory / "store.db")
    return f"sqlite:///{directory / 'store.db'}"


@asynccontextmanager
async def chat_stack(clock: Callable[[], datetime] = utcnow, *, database_url: str | None = None, start: bool = True,
                     discord: bool = True, **overrides: Any) -> AsyncIterator[Stack]:
    # Unset: a fresh SQLite file, or a fresh PostgreSQL database when the test runs on that backend
    # (tests/pg_fixtures.py).
    directory = tempfile.TemporaryDirectory(prefix="tb-chat-")
    database_url = database_url or active_pg_url() or fresh_store_url(Path(directory.name))
    telegram = FakeTelegram(TOKEN)
    webhook = FakeDiscordWebhook()
    await telegram.start()
    await webhook.start()
    settings = chat_settings(database_url, telegram_base_url=telegram.base_url,
                             **({"discord_webhook_url": webhook.url} if discord else {}), **overrides)
    sessions = open_store(database_url)
    stack = Stack(telegram, webhook, build_runtime(settings, sessions, clock), settings, sessions, asyncio.Event())
    try:
        if start:
            await stack.start_bot()
        yield stack
    finally:
        await stack.stop_bot()
        await telegram.stop()
        await webhook.stop()
        stack.sessions.kw["bind"].dispose()
        directory.cleanup()


def shifted_clock(at: datetime) -> Callable[[], datetime]:
    """Real time that ticks, started at `at` (inside the embedded bars, so the simulated broker has prices)."""
    offset = utcnow() - at
    return lambda: utcnow() - offset


# Inside the embedded snapshot: the simulated broker has fresh SOL and BTC bars at this time.
MARKET_TIME = datetime(2025, 12, 13, 11, 0, tzinfo=timezone.utc)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


__all__ = ["GROUP", "MARKET_TIME", "OPERATOR", "STRANGER", "SUBSCRIBER", "TOKEN", "chat_stack", "run",
           "seed_proposal", "seed_run", "shifted_clock", "utc"]
