"""A fake Discord API and gateway on 127.0.0.1 (aiohttp.web) for the real discord.py client: login,
the gateway handshake (HELLO, IDENTIFY, READY, GUILD_CREATE), MESSAGE_CREATE events a test injects,
and the messages the bot posts back."""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import WSMsgType, web

BOT_TOKEN = "MTA0.fake-discord-bot-token." + "y" * 40
BOT_ID, GUILD_ID, CHANNEL_ID = "4242000000000000001", "4242000000000000002", "4242000000000000003"
STAMP = "2025-12-13T11:00:00+00:00"


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes a body only when Content-Type is exactly application/json (no charset).
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass
class FakeDiscordApi:
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (channel id, body)
    uploads: list[tuple[str, str, bytes]] = field(default_factory=list)  # (channel id, file name, bytes)
    identified: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(5000)
        self._seq = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.root = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_get("/api/v10/gateway/bot", self._gateway_info)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_post("/api/v10/channels/{channel}/messages", self._post_message)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root = f"http://127.0.0.1:{port}"
        return self.root

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def connected(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def say(self, user_id: str, content: str, in_guild: bool = True, channel_id: str = CHANNEL_ID) -> str:
        """A user writes `content` in the server's channel (or, in_guild=False, in a direct message)."""
        message_id = str(next(self._ids))
        data: dict[str, Any] = {
            "id": message_id, "channel_id": channel_id, "content": content, "timestamp": STAMP,
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0, "components": [],
            "author": {"id": user_id, "username": f"user{user_id}", "discriminator": "0", "avatar": None,
                       "global_name": None},
        }
        if in_guild:
            data["guild_id"] = GUILD_ID
            data["member"] = {"roles": [], "joined_at": STAMP, "deaf": False, "mute": False, "flags": 0}
        await self._dispatch("MESSAGE_CREATE", data)
        return message_id

    def replies_to(self, channel_id: str) -> list[dict[str, Any]]:
        return [body for channel, body in self.posted if channel == channel_id]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; posted: {self.posted}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.05)
            except asyncio.TimeoutError:
                pass

    # --- the API ---

    @staticmethod
    def _authorised(request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {BOT_TOKEN}"

    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json({"id": BOT_ID, "username": "tracer", "discriminator": "0", "avatar": None,
                                  "bot": True, "global_name": None, "flags": 0})

    async def _application(self, request: web.Request) -> web.Response:
        owner = {"id": "1", "username": "owner", "discriminator": "0", "avatar": None}
        return _json({"id": BOT_ID, "name": "tracer", "description": "", "icon": None, "bot_public": False,
                                  "bot_require_code_grant": False, "owner": owner, "verify_key": "00", "flags": 0})

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return _json({"url": self.root.replace("http", "ws") + "/gateway", "shards": 1,
                                  "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                          "max_concurrency": 1}})

    async def _send(self, payload: dict[str, Any]) -> None:
        for socket in list(self._sockets):
            if not socket.closed:
                await socket.send_str(json.dumps(payload))

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        await self._send({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload["op"] == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
                self.identified.append(payload["d"])
                await self._ready()
        return socket

    async def _ready(self) -> None:
        await self._dispatch("READY", {
            "v": 10, "user": {"id": BOT_ID, "username": "tracer", "discriminator": "0", "avatar": None, "bot": True},
            "guilds": [{"id": GUILD_ID, "unavailable": True}], "session_id": "fake-session",
            "resume_gateway_url": self.root.replace("http", "ws") + "/gateway", "application": {"id": BOT_ID, "flags": 0},
        })
        await self._dispatch("GUILD_CREATE", {
            "id": GUILD_ID, "name": "Ops", "owner_id": "1", "unavailable": False, "member_count": 2, "large": False,
            "roles": [], "emojis": [], "stickers": [], "features": [], "members": [], "voice_states": [],
            "presences": [], "threads": [], "stage_instances": [], "guild_scheduled_events": [],
            "channels": [{"id": CHANNEL_ID, "type": 0, "name": "alerts", "position": 0, "permission_overwrites": []}],
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "nsfw_level": 0, "premium_tier": 0, "system_channel_flags": 0, "preferred_locale": "en-US", "afk_timeout": 300,
        })
        self._connected.set()

    async def _post_message(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        channel = request.match_info["channel"]
        if request.content_type.startswith("multipart/"):  # a message with files: payload_json and files[n]
            form = await request.post()
            body = json.loads(str(form["payload_json"]))
            for value in form.values():
                if isinstance(value, web.FileField):
                    self.uploads.append((channel, value.filename, value.file.read()))
        else:
            body = await request.json()
        self.posted.append((channel, body))
        self._changed.set()
        return _json({
            "id": str(next(self._ids)), "channel_id": channel, "content": body.get("content") or "",
            "embeds": body.get("embeds", []), "timestamp": STAMP, "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [], "pinned": False,
            "type": 0, "author": {"id": BOT_ID, "username": "tracer", "discriminator": "0", "avatar": None, "bot": True},
        })
