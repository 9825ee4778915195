"""Delivers outbox messages to a Discord webhook over aiohttp, honouring Discord's rate limits.

A 429 defers by its `retry_after`; a bucket that reports `X-RateLimit-Remaining: 0` holds the next
request back for `X-RateLimit-Reset-After` seconds, so we wait instead of being told to.
(discord.py's own Webhook only talks to discord.com; a plain POST works with any endpoint.)
"""
from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any, Mapping

import aiohttp

from bot.delivery import Permanent, RetryLater, Transient


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class DiscordWebhookSender:
    channel = "discord"

    def __init__(self, url: str, timeout_seconds: float, username: str = "Tracer Bullet") -> None:
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._username = username
        self._session: aiohttp.ClientSession | None = None
        self._blocked_until = 0.0  # monotonic time before which the bucket is empty

    def part_count(self, payload: Mapping[str, Any]) -> int:
        return len(payload["messages"])

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send_part(self, destination: str, payload: Mapping[str, Any], index: int) -> None:
        wait = self._blocked_until - time.monotonic()
        if wait > 0:
            raise RetryLater(wait, "Discord rate limit bucket is empty")
        message = dict(payload["messages"][index])
        attachment = message.pop("file", None)
        body = {**message, "username": self._username}
        session = await self._client()
        try:
            async with session.post(self._url, params={"wait": "true"}, **self._body(body, attachment)) as response:
                text = await response.text()
                self._note_bucket(response.headers)
                self._check(response.status, response.headers, text)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise Transient(f"Discord not reachable: {exc.__class__.__name__}") from exc

    @staticmethod
    def _body(body: dict[str, Any], attachment: dict[str, str] | None) -> dict[str, Any]:
        """JSON, or multipart with the JSON as payload_json when a file goes along (Discord's upload form)."""
        if attachment is None:
            return {"json": body}
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps(body), content_type="application/json")
        form.add_field("files[0]", base64.b64decode(attachment["b64"]), filename=attachment["name"],
                       content_type="image/png")
        return {"data": form}

    def _note_bucket(self, headers: Mapping[str, str]) -> None:
        reset_after = _seconds(headers.get("X-RateLimit-Reset-After"))
        if headers.get("X-RateLimit-Remaining") == "0" and reset_after is not None:
            self._blocked_until = time.monotonic() + reset_after

    def _check(self, status: int, headers: Mapping[str, str], text: str) -> None:
        if 200 <= status < 300:
            return
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        message = data.get("message") if isinstance(data, dict) else None
        if status == 429:
            seconds = _seconds(str(data.get("retry_after"))) if isinstance(data, dict) else None
            seconds = seconds if seconds is not None else _seconds(headers.get("Retry-After")) or 1.0
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)
            raise RetryLater(seconds, f"Discord rate limit ({'global' if data.get('global') else 'bucket'})")
        if status >= 500 or status == 408:
            raise Transient(f"Discord answered {status}")
        raise Permanent(f"Discord refused the message ({status}): {message or 'no reason given'}")
