"""The optional Discord bot (TB_DISCORD_TOKEN, discord.py): answers the read-only commands.

In a server the bot was invited to, anyone may read (`!status`, `!digest`, `!signals`, `!markets`,
`!universe`, `!chart ETH` with the picture attached, `!help`);
controlling trading stays on Telegram, where operators are known by user id, so those commands and
direct messages get the short refusal and a log line. Replies go through the outbox like every
other message (channel "discord_bot", destination the Discord channel id).
"""
from __future__ import annotations

import asyncio
import base64
import io
import logging
from typing import Any, Callable, Mapping

import aiohttp
import discord
import yarl
from discord import http as discord_http
from discord.gateway import DiscordWebSocket

from service.commands import Role
from bot.actions import Actions, Caller
from bot.chat_order import Turns
from bot.delivery import Permanent, RetryLater, Transient
from bot.envelopes import discord_doc_photo_payload, discord_payload, discord_photo_payload
from bot.outbox import Envelope, Outbox
from bot.reply_writer import ReplyWriter
from bot.store_calls import StoreCalls

log = logging.getLogger(__name__)
PREFIX = "!"
CHANNEL = "discord_bot"
CHART_NAME = "chart.png"  # the attachment's name: the embed shows it as attachment://chart.png


def use_api_root(api_url: str | None) -> None:
    """Point discord.py at another API root: REST at <root>/api/v10, the gateway at <root>/gateway
    (over ws:// or wss:// as the root is http:// or https://). discord.py keeps both as class settings."""
    if api_url:
        root = api_url.rstrip("/")
        discord_http.Route.BASE = f"{root}/api/v10"
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("ws" + root[len("http"):] + "/gateway")


class DiscordReader(discord.Client):
    def __init__(self, actions: Actions, outbox: Outbox, wake: Callable[[], None], store: StoreCalls | None = None) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.dm_messages = True
        intents.message_content = True  # prefix commands: enable "Message Content Intent" for the bot
        super().__init__(intents=intents, guild_ready_timeout=0.5, enable_debug_events=False)
        self.actions = actions
        self.store = store or StoreCalls()  # every store call off the event loop, retried while the store is busy
        self.writer = ReplyWriter(outbox, self.store)
        self.wake = wake
        self.ready_for_replies = asyncio.Event()
        self._turns = Turns()  # a channel's commands are answered in the order they came

    async def on_ready(self) -> None:
        self.ready_for_replies.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or not message.content.startswith(PREFIX):
            return
        words = message.content[len(PREFIX):].split()
        if not words:
            return
        in_server = message.guild is not None or getattr(message.channel, "guild_id", None) is not None
        caller = Caller("discord", message.author.id, message.channel.id, Role.READER if in_server else Role.STRANGER)
        name, destination = words[0].lower(), str(message.channel.id)
        async with self._turns.turn(destination):  # taken in arrival order: the handler has not awaited before
            reply, record = await self.store.until_done(f"{PREFIX}{name[:32]} from {caller.actor}", self.actions.handle,
                                                        caller, name, words[1:])
            key = f"discord-reply:{message.id}"
            payload = (discord_doc_photo_payload(reply.doc, reply.captioned_photo, CHART_NAME) if reply.captioned_photo
                       else discord_payload(reply.doc))
            envelopes = [Envelope(key, CHANNEL, destination, "reply", payload)]
            if reply.photo:
                envelopes.append(Envelope(f"{key}:photo", CHANNEL, destination, "photo",
                                          discord_photo_payload(reply.photo, reply.photo_caption)))
            await self.writer.write(envelopes, record)  # the reply and its log entry, in one commit
        self.wake()


class DiscordBotSender:
    """Outbox delivery through the bot's own connection (discord.py waits out 429s by itself)."""

    channel = CHANNEL

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def part_count(self, payload: Mapping[str, Any]) -> int:
        return len(payload["messages"])

    async def send_part(self, destination: str, payload: Mapping[str, Any], index: int) -> None:
        message = payload["messages"][index]
        embeds = [discord.Embed.from_dict(e) for e in message["embeds"]]
        attachment = message.get("file")
        files = [discord.File(io.BytesIO(base64.b64decode(attachment["b64"])), attachment["name"])] if attachment else []
        channel = self.client.get_partial_messageable(int(destination))
        try:
            await channel.send(embeds=embeds, files=files, allowed_mentions=discord.AllowedMentions.none())
        except (discord.Forbidden, discord.NotFound) as exc:
            raise Permanent(f"Discord refused the reply ({exc.status}): {exc.text}") from exc
        except discord.DiscordServerError as exc:
            raise Transient(f"Discord answered {exc.status}") from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise RetryLater(1.0, "Discord rate limit") from exc
            raise Permanent(f"Discord refused the reply ({exc.status}): {exc.text}") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise Transient(f"Discord not reachable: {exc.__class__.__name__}") from exc
