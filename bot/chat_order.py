"""Telegram updates of one chat in the order they came; different chats side by side.

Handling every update in turn lets one slow command (an /approve waiting for the broker) hold up
everyone; handling them all at once lets a chat's replies overtake each other (a /status answered
before the /pause sent ahead of it). python-telegram-bot takes a custom update processor for this;
the Discord bot takes the same turns per channel (`Turns`).
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Hashable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class Turns:
    """One FIFO lock per key (waiters get it in arrival order); a key nobody holds or waits for is forgotten."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}  # holding or waiting, per key

    @asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # a chat that goes quiet leaves nothing behind
                del self._users[key], self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class PerChatOrder(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._turns = Turns()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        async with self._turns.turn(chat.id if chat is not None else None):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
