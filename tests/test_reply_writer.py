"""Group commit of chat replies: a burst shares commits, nobody returns before their reply is stored."""
from __future__ import annotations

import asyncio
import sqlite3

from sqlalchemy import func, select

from service.chat_ops import CommandRecord
from service.commands import Role
from service.composition import utcnow
from bot.loop_watch import LoopWatch
from bot.outbox import Envelope, Outbox
from bot.reply_writer import ReplyWriter
from storage.chat_models import ChatCommandLog, OutboxMessage
from storage.db import open_store
from tests.chat_fixtures import run


def _reply(i: int) -> Envelope:
    return Envelope(f"reply:{i}", "telegram", str(1000 + i), "reply", {"parts": [f"answer {i}"]})


def _record(i: int) -> CommandRecord:
    return CommandRecord("telegram", 1000 + i, 1000 + i, "status", "", Role.OPERATOR, True, "OK")


def _count(sessions, model) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_burst_is_stored_whole_in_a_few_commits(tmp_path) -> None:
    sessions = open_store(f"sqlite:///{tmp_path}/store.db")
    writer = ReplyWriter(Outbox(sessions, utcnow))

    async def handler(i: int) -> list[bool]:
        await asyncio.sleep(0)  # handlers reach the writer at slightly different moments
        queued = await writer.write([_reply(i)], _record(i))
        with sessions() as session:  # returned only once its own reply is stored
            assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == _reply(i).full_key))
        return queued

    async def burst() -> list[list[bool]]:
        return await asyncio.gather(*(handler(i) for i in range(50)))

    assert run(burst()) == [[True]] * 50
    assert writer.commits < 10
    assert _count(sessions, OutboxMessage) == 50 and _count(sessions, ChatCommandLog) == 50
    with sessions() as session:  # delivery order is id order: the burst keeps its order
        keys = list(session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id)))
    assert keys == [_reply(i).full_key for i in range(50)]


def test_a_key_queued_before_or_twice_in_a_burst_goes_out_once(tmp_path) -> None:
    sessions = open_store(f"sqlite:///{tmp_path}/store.db")
    outbox = Outbox(sessions, utcnow)
    writer = ReplyWriter(outbox)
    assert outbox.put(_reply(1))

    async def burst() -> list[list[bool]]:
        return await asyncio.gather(writer.write([_reply(1), _reply(2)], _record(1)), writer.write([_reply(2)], _record(2)))

    assert run(burst()) == [[False, True], [False]]
    assert _count(sessions, OutboxMessage) == 2 and _count(sessions, ChatCommandLog) == 2


def test_every_waiter_hears_that_the_store_failed(tmp_path) -> None:
    sessions = open_store(f"sqlite:///{tmp_path}/store.db")
    writer = ReplyWriter(Outbox(sessions, utcnow))
    too_long = Envelope("x" * 300, "telegram", "1", "reply", {})

    async def burst() -> list[object]:
        return await asyncio.gather(writer.write([_reply(1)], _record(1)), writer.write([too_long], _record(2)),
                                    return_exceptions=True)

    results = run(burst())
    assert all(isinstance(r, ValueError) for r in results)
    assert _count(sessions, OutboxMessage) == 0 and _count(sessions, ChatCommandLog) == 0  # all or nothing
    assert run(writer.write([_reply(3)], _record(3))) == [True]  # and the writer goes on


def test_a_reply_waits_for_a_held_store_in_a_thread_and_the_loop_runs_on(tmp_path) -> None:
    """Another connection holds the write lock for a second: the reply is stored once it is let go, and
    the event loop never waited meanwhile (the commit runs in a worker thread)."""
    path = tmp_path / "store.db"
    sessions = open_store(f"sqlite:///{path}")
    writer = ReplyWriter(Outbox(sessions, utcnow))

    async def scenario() -> tuple[list[bool], float]:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        watch = LoopWatch(interval=0.01)
        watching = asyncio.create_task(watch.run())
        write = asyncio.create_task(writer.write([_reply(1)], _record(1)))
        await asyncio.sleep(1.0)
        assert not write.done()
        holder.execute("COMMIT")
        queued = await asyncio.wait_for(write, 10)
        watching.cancel()
        return queued, watch.longest

    queued, stall = run(scenario())
    assert queued == [True] and _count(sessions, ChatCommandLog) == 1
    assert stall < 0.5, stall
