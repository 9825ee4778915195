"""Per-chat order of Telegram updates: one chat in sequence, different chats side by side."""
from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Chat, Message, Update

from bot.chat_order import PerChatOrder
from tests.chat_fixtures import run, utc


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, utc(2025, 12, 13), chat, text="/status"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 3)), min_size=1, max_size=30))
def test_each_chat_sees_its_updates_in_order_and_chats_overlap(arrivals: list[tuple[int, int]]) -> None:
    async def scenario() -> tuple[list[tuple[int, int]], int, dict]:
        processor = PerChatOrder()
        done: list[tuple[int, int]] = []
        busy: dict[int, int] = {}
        most = 0

        async def handle(update_id: int, chat: int, pauses: int) -> None:
            nonlocal most
            busy[chat] = busy.get(chat, 0) + 1
            assert busy[chat] == 1  # never two updates of one chat at once
            most = max(most, sum(1 for n in busy.values() if n))
            for _ in range(pauses):  # a handler that awaits (the broker, a toast)
                await asyncio.sleep(0)
            busy[chat] -= 1
            done.append((chat, update_id))

        tasks = [asyncio.create_task(processor.process_update(_update(i, chat), handle(i, chat, pauses)))
                 for i, (chat, pauses) in enumerate(arrivals)]
        await asyncio.gather(*tasks)
        return done, most, processor._turns

    done, most, left = run(scenario())
    for chat in {c for c, _ in arrivals}:
        assert [i for c, i in done if c == chat] == [i for i, (c, _) in enumerate(arrivals) if c == chat]
    assert len(left) == 0  # nothing kept for chats that went quiet
    if len({c for c, p in arrivals if p}) > 1:
        assert most > 1  # chats that wait do not hold up the others
