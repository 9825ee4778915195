"""A fake Discord webhook endpoint on 127.0.0.1 (aiohttp.web): checks Discord's embed limits, sends
rate-limit headers, and can answer 5xx or 429 on request."""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

WEBHOOK_ID = "112233445566778899"
WEBHOOK_TOKEN = "fAkE-WeBhOoK-ToKeN_" + "x" * 48


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def embed_problems(body: dict[str, Any]) -> list[str]:
    """What Discord would refuse in this webhook body."""
    embeds = body.get("embeds") or []
    problems = []
    if not embeds and not body.get("content"):
        problems.append("empty message")
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = 0
    for embed in embeds:
        title, description = embed.get("title", ""), embed.get("description", "")
        if utf16_len(title) > 256:
            problems.append("title longer than 256")
        if utf16_len(description) > 4096:
            problems.append("description longer than 4096")
        total += utf16_len(title) + utf16_len(description)
    if total > 6000:
        problems.append("embeds longer than 6000 in total")
    return problems


@dataclass
class FakeDiscordWebhook:
    received: list[dict[str, Any]] = field(default_factory=list)
    calls: list[float] = field(default_factory=list)  # monotonic time of every POST, refused ones included
    bucket_size: int = 0  # > 0: after this many requests the bucket is empty for `bucket_reset` seconds
    bucket_reset: float = 0.5

    def __post_init__(self) -> None:
        self._faults: list[tuple[int, float | None]] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._bucket_used = 0
        self._bucket_empty_until = 0.0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/webhooks/{id}/{token}", self._handle)
        app.router.add_get("/api/webhooks/{id}/{token}", self._info)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, times: int = 1, status: int = 503, retry_after: float | None = None) -> None:
        self._faults.extend((429 if retry_after is not None else status, retry_after) for _ in range(times))

    def texts(self) -> list[str]:
        return [" ".join(e.get("title", "") + "\n" + e.get("description", "") for e in body["embeds"]) for body in self.received]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received {len(self.received)} message(s)")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.05)
            except asyncio.TimeoutError:
                pass

    def _bucket_headers(self) -> dict[str, str]:
        if not self.bucket_size:
            return {}
        self._bucket_used += 1
        remaining = max(self.bucket_size - self._bucket_used, 0)
        if remaining == 0:
            self._bucket_empty_until = time.monotonic() + self.bucket_reset
            self._bucket_used = 0
        return {"X-RateLimit-Limit": str(self.bucket_size), "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset-After": f"{self.bucket_reset:.3f}", "X-RateLimit-Bucket": "fake"}

    async def _info(self, request: web.Request) -> web.Response:
        """GET on a webhook URL: Discord answers with the webhook object (what `health` checks)."""
        if request.match_info["token"] != WEBHOOK_TOKEN or request.match_info["id"] != WEBHOOK_ID:
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        return web.json_response({"id": WEBHOOK_ID, "type": 1, "name": "Tracer Bullet", "channel_id": "4455",
                                  "guild_id": "6677", "token": WEBHOOK_TOKEN})

    async def _handle(self, request: web.Request) -> web.Response:
        self.calls.append(time.monotonic())
        if request.match_info["token"] != WEBHOOK_TOKEN or request.match_info["id"] != WEBHOOK_ID:
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if self._faults:
            status, retry_after = self._faults.pop(0)
            if status == 429:
                return web.json_response({"message": "You are being rate limited.", "retry_after": retry_after,
                                          "global": False}, status=429, headers={"Retry-After": str(retry_after)})
            return web.json_response({"message": "Service Unavailable"}, status=status)
        if self.bucket_size and time.monotonic() < self._bucket_empty_until:
            wait = self._bucket_empty_until - time.monotonic()
            return web.json_response({"message": "You are being rate limited.", "retry_after": wait, "global": False},
                                     status=429, headers={"Retry-After": f"{wait:.3f}"})
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            field = form["payload_json"]
            raw = field.file.read() if isinstance(field, web.FileField) else field
            body = json.loads(raw.decode() if isinstance(raw, (bytes, bytearray)) else raw)
            files = {k: v.file.read() for k, v in form.items() if isinstance(v, web.FileField)}
        else:
            body = await request.json()
        body["_files"] = files
        problems = embed_problems(body)
        if problems:
            return web.json_response({"message": "Invalid Form Body", "code": 50035, "errors": problems}, status=400)
        self.received.append(body)
        self._changed.set()
        message = {"id": str(next(self._ids)), "webhook_id": WEBHOOK_ID, "embeds": body.get("embeds", [])}
        return web.json_response(message, headers=self._bucket_headers())
