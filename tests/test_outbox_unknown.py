"""An honest outbox promise: at least once, and a second copy only when it cannot be told apart
(issue 13, finding 3). Against the fake Bot API over HTTP, through the real runtime and outbox.

Telegram may accept a send and answer late. A client that gave up at the HTTP timeout and sent
again at once showed the message twice. Now a send waits four times the HTTP timeout for its answer;
one that gets none is `unknown` and goes again only after the longest backoff; and a part Telegram
confirmed is not sent again because the store was too busy to record it.
"""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from storage.chat_models import OutboxMessage
from tests.chat_fixtures import OPERATOR, chat_stack, run
from tests.test_store_errors import HOLD
from trading.alerts import Alert

HTTP_TIMEOUT = 0.3  # TB_CHAT_TIMEOUT_SECONDS in these tests: a send waits 4 x this for its answer


def _row(stack) -> OutboxMessage:
    with stack.sessions() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "telegram")).all()
        return row


def test_a_send_answered_after_the_http_timeout_goes_out_once() -> None:
    async def scenario() -> None:
        async with chat_stack(chat_timeout_seconds=HTTP_TIMEOUT, discord=False) as stack:
            tg = stack.telegram
            tg.fail("sendMessage", late=0.8)  # accepted at once, answered after the HTTP timeout
            stack.runtime.publisher.alert(Alert("error", "Broker unreachable", "error:late"))
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1)
            await asyncio.sleep(1.5)
            assert len(tg.to(OPERATOR)) == 1
            row = _row(stack)
            assert (row.status, row.attempts) == ("sent", 0)

    run(scenario())


def test_a_send_never_answered_is_unknown_and_sent_again_only_after_the_delay() -> None:
    async def scenario() -> None:
        async with chat_stack(chat_timeout_seconds=HTTP_TIMEOUT, outbox_backoff_max_seconds=2.0, discord=False) as stack:
            tg = stack.telegram
            tg.fail("sendMessage", late=3.0)  # accepted, and the answer comes after the client stopped waiting
            stack.runtime.publisher.alert(Alert("error", "Broker unreachable", "error:lost"))
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1)
            await asyncio.sleep(4 * HTTP_TIMEOUT + 0.5)  # the client has given up on the answer
            row = _row(stack)
            assert row.status == "unknown" and row.attempts == 1 and "may have been delivered" in row.last_error
            assert len(tg.to(OPERATOR)) == 1  # not sent again at once
            # After the longest backoff it goes again: the one duplicate the README owns up to.
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 2, timeout=5)
            await asyncio.sleep(0.5)
            assert len(tg.to(OPERATOR)) == 2 and _row(stack).status == "sent"
            gap = tg.to(OPERATOR)[1].at - tg.to(OPERATOR)[0].at
            assert gap >= 4 * HTTP_TIMEOUT + 2.0 - 0.2

    run(scenario())


def test_a_confirmed_send_is_not_repeated_when_the_store_is_too_busy_to_record_it(tmp_path: Path) -> None:
    path = tmp_path / "tb.db"

    async def scenario() -> None:
        async with chat_stack(database_url=f"sqlite:///{path}", chat_timeout_seconds=2.0, discord=False) as stack:
            tg = stack.telegram
            tg.fail("sendMessage", late=1.0)
            stack.runtime.publisher.alert(Alert("error", "Broker unreachable", "error:busy"))
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == 1)
            # Telegram has it; before its answer arrives another process takes the store for longer
            # than SQLite's 5 s wait, so the outbox cannot record the delivery when the answer comes.
            holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), "7"], stdout=subprocess.PIPE, text=True)
            try:
                assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
                await asyncio.sleep(7.5)
            finally:
                holder.kill()
                holder.wait()
            await asyncio.sleep(1.0)  # the store is free: the worker records what it sent
            assert len(tg.to(OPERATOR)) == 1
            assert _row(stack).status == "sent"

    run(scenario())
