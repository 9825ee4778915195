"""`serve` as a real process whose own cycle waits 25 s on a slow Claude API (the fake Messages API over
HTTP) while an operator sends 40 commands, one every 0.75 s, through the fake Bot API (issue 13,
finding 1: "6 of 40 commands lost in one run"). Every command is answered and logged, and the event
loop is never held up (the bot logs the longest stall it saw when it stops).
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.chat_models import ChatCommandLog, OutboxMessage
from storage.db import open_store
from tests.chat_fixtures import OPERATOR, SUBSCRIBER, TOKEN
from tests.fake_anthropic import KEY, FakeMessagesApi, Fault
from tests.fake_telegram import FakeTelegram
from tests.serve_harness import ServeProcess

pytestmark = pytest.mark.slow  # a 25 s Claude answer and 30 s of commands

SLOW_CLAUDE = 25.0
COMMANDS = ("/status", "/pause", "/proposals", "/resume", "/signals", "/digest", "/pause", "/resume")


def test_forty_commands_while_the_cycle_waits_on_a_slow_claude_are_all_answered_and_logged(tmp_path: Path) -> None:
    api = FakeMessagesApi().start()
    api.faults.extend([Fault(delay=SLOW_CLAUDE)] * 2)  # a retry, should there be one, is as slow
    try:
        figures = asyncio.run(_scenario(tmp_path, api))
    finally:
        api.stop()
    print(f"figures: {figures}")
    assert figures["answered"] == figures["sent"] == 40 and figures["messages_to_operator"] >= 40
    assert figures["logged"] == 40
    assert figures["longest_stall"] < 1.0


async def _scenario(tmp: Path, api: FakeMessagesApi) -> dict[str, float]:
    telegram = FakeTelegram(TOKEN)
    await telegram.start()
    url = f"sqlite:///{tmp / 'tb.db'}"
    env = {
        "TB_DATABASE_URL": url, "TB_ARTIFACTS_DIR": str(tmp / "artifacts"), "TB_EVAL_RUNS_DIR": str(tmp / "eval_runs"),
        "TB_TELEGRAM_TOKEN": TOKEN, "TB_TELEGRAM_BASE_URL": telegram.base_url,
        "TB_TELEGRAM_OPERATORS": str(OPERATOR), "TB_TELEGRAM_SUBSCRIBERS": str(SUBSCRIBER),
        "TB_TELEGRAM_POLL_SECONDS": "1", "TB_CHAT_TIMEOUT_SECONDS": "5", "TB_OUTBOX_BACKOFF_SECONDS": "0.05",
        "TB_OUTBOX_BACKOFF_MAX_SECONDS": "0.5", "TB_OUTBOX_POLL_SECONDS": "0.1", "TB_SENTIMENT_BACKEND": "embedded",
        "ANTHROPIC_API_KEY": KEY, "TB_ANTHROPIC_BASE_URL": api.url, "TB_CLAUDE_TIMEOUT_SECONDS": "60",
        "TB_CYCLE_SECONDS": "3600", "TB_SHUTDOWN_GRACE_SECONDS": "60",
    }
    serve = ServeProcess(env, tmp, tmp / "serve.log")
    try:
        await serve.start()
        await serve.wait_log("serve ready as", timeout=90)
        await serve.wait_for(lambda: bool(api.requests), 90, "the cycle to ask Claude")
        for i in range(40):
            telegram.command(OPERATOR, COMMANDS[i % len(COMMANDS)])
            await asyncio.sleep(0.75)
        sessions = open_store(url)
        await telegram.wait_for(lambda: len(_replies(sessions)) >= 40, timeout=120)
        assert await serve.stop() == 0
        stalls = [float(m.group(1)) for m in (re.search(r"longest stall since it was ready ([0-9.]+) s", line)
                                              for line in serve.messages()) if m]
        assert stalls, serve.tail()
        with sessions() as session:
            logged = len(session.scalars(select(ChatCommandLog).where(ChatCommandLog.user_id == OPERATOR)).all())
        # An answer's row is "sent" once the Bot API took it; the operator may also get the cycle's alerts.
        return {"sent": 40, "answered": len({row.key for row in _replies(sessions)}), "logged": logged,
                "messages_to_operator": len(telegram.to(OPERATOR)), "longest_stall": max(stalls),
                "claude_requests": len(api.requests)}
    finally:
        await serve.kill()
        await telegram.stop()


def _replies(sessions) -> list[OutboxMessage]:
    """The answers to the operator's commands, sent."""
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "reply", OutboxMessage.destination == str(OPERATOR), OutboxMessage.status == "sent")))
