"""/eval and the weekly summary: the evaluation's text and its reliability picture, in chat."""
from __future__ import annotations

import asyncio

import pytest

from intelligence.types import Direction
from tests.chat_fixtures import (MARKET_TIME, OPERATOR, STRANGER, SUBSCRIBER, chat_stack, run, seed_run,
                                 shifted_clock, utc)


@pytest.mark.slow  # the evaluation itself (resolving, bootstrap, plotting) takes a few seconds
def test_eval_answers_with_the_summary_then_the_picture_and_the_weekly_job_posts_once(tmp_path) -> None:
    async def scenario() -> None:
        # A file store: the evaluation runs in a worker thread, which an in-memory store would not share.
        async with chat_stack(shifted_clock(utc(2025, 12, 20, 12)), database_url=f"sqlite:///{tmp_path / 'e.db'}") as stack:
            tg = stack.telegram
            seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8), ("ETH", Direction.SELL, 0.53, 0.4)])
            tg.command(STRANGER, "/eval")
            tg.command(OPERATOR, "/eval")
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 2, timeout=60)
            text, picture = tg.to(OPERATOR)
            assert text.text.startswith("Weekly evaluation") and "Since the first signal" in text.text
            assert picture.photo is not None and picture.photo.startswith(b"\x89PNG") and "resolved signals" in picture.text
            assert [m.text for m in tg.to(STRANGER)] == ["Sorry, you are not allowed to do that."]

            stack.runtime.service.subscribe(SUBSCRIBER, "t")
            summary = stack.runtime.service.evaluation_summary()
            assert stack.runtime.publisher.weekly_summary(summary) == 2
            assert stack.runtime.publisher.weekly_summary(summary) == 0  # the same week's summary: not again
            await tg.wait_for(lambda: len(tg.to(SUBSCRIBER)) == 2)
            assert tg.to(SUBSCRIBER)[0].text.startswith("Weekly evaluation") and tg.to(SUBSCRIBER)[1].photo
            await asyncio.sleep(0.1)
            assert len(tg.to(SUBSCRIBER)) == 2

    run(scenario())


def test_the_picture_goes_to_discord_as_an_attachment_when_telegram_refuses(tmp_path) -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(utc(2025, 12, 20, 12)), database_url=f"sqlite:///{tmp_path / 'e.db'}") as stack:
            seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            stack.telegram.blocked.add(SUBSCRIBER)
            stack.runtime.service.subscribe(SUBSCRIBER, "t")
            stack.runtime.publisher.weekly_summary(stack.runtime.service.evaluation_summary())
            dc = stack.discord
            await dc.wait_for(lambda: len(dc.received) == 2)
            text, picture = dc.received
            assert text["embeds"][0]["title"] == "Weekly evaluation"
            assert picture["_files"]["files[0]"].startswith(b"\x89PNG")
            assert picture["embeds"][0]["image"]["url"] == "attachment://reliability.png"
    run(scenario())
