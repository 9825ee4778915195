"""Telegram updates of one chat in the order they came; different chats side by side.

Handling every update in turn lets one slow command (an /approve waiting for the broker) hold up
everyone; handling them all at once lets a chat's replies overtake each other (a /status answered
before the /pause sent ahead of it). python-telegram-bot takes a custom update processor for this.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatOrder(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._turns: dict[int | None, asyncio.Lock] = {}
        self._users: dict[int | None, int] = {}  # updates of the chat holding or waiting for its turn

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        turn = self._turns.setdefault(key, asyncio.Lock())  # FIFO: waiters get it in arrival order
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with turn:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # a chat that goes quiet leaves nothing behind
                del self._users[key], self._turns[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
