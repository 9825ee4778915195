"""The weekly evaluation job of `serve`, fired as the scheduler fires it: the summary and its picture reach
the subscribers on Telegram (the loopback Bot API) and the Discord webhook, once however often it fires."""
from __future__ import annotations

import asyncio

import pytest

from serve import jobs
from intelligence.types import Direction
from tests.chat_fixtures import MARKET_TIME, SUBSCRIBER, chat_stack, run, seed_run, shifted_clock, utc
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401
from tests.serve_fixtures import serve_context


@pytest.mark.slow  # the evaluation itself (resolving, bootstrap, plotting) takes a few seconds
def test_the_weekly_job_posts_the_summary_and_picture_to_telegram_and_discord(database_url: str, tmp_path) -> None:
    async def scenario() -> None:
        clock = shifted_clock(utc(2025, 12, 20, 12))
        async with chat_stack(clock, database_url=database_url, eval_runs_dir=tmp_path / "eval_runs") as stack:
            seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8), ("ETH", Direction.SELL, 0.53, 0.4)])
            stack.runtime.service.subscribe(SUBSCRIBER, "t")
            serve_context(stack.settings, stack.sessions, clock, stack.runtime)
            try:
                await jobs.weekly_job()
                await jobs.weekly_job()  # fired twice (a restart inside the grace time): posted once
            finally:
                jobs.deactivate()
            tg, dc = stack.telegram, stack.discord
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 2, timeout=30)
            await dc.wait_for(lambda: len(dc.received) == 2, timeout=30)
            await asyncio.sleep(0.3)
            text, picture = tg.to(SUBSCRIBER)
            assert text.text.startswith("Weekly evaluation") and "Since the first signal" in text.text
            assert picture.photo is not None and picture.photo.startswith(b"\x89PNG")
            summary, image = dc.received
            assert summary["embeds"][0]["title"] == "Weekly evaluation"
            assert image["_files"]["files[0]"].startswith(b"\x89PNG")
            assert image["embeds"][0]["image"]["url"] == "attachment://reliability.png"
            assert len(tg.to(SUBSCRIBER)) == 2 and len(dc.received) == 2
            assert len(list((tmp_path / "eval_runs").iterdir())) == 2  # each firing is an evaluation run on disk

    run(scenario())
