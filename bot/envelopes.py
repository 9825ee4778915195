"""Outbox envelopes from documents: the Telegram rendering, the Discord rendering, or both."""
from __future__ import annotations

import base64
from typing import Any

from bot.actions import Button, describe_buttons
from bot.message_model import Doc
from bot.outbox import Envelope
from bot.render_discord import NO_MENTIONS, discord_messages
from bot.render_telegram import escape, telegram_parts
from bot.telegram_sender import edit_markup_payload, photo_payload, send_payload

WEBHOOK = "webhook"


def discord_payload(doc: Doc) -> dict[str, Any]:
    return {"messages": discord_messages(doc)}


def telegram_envelope(doc: Doc, chat_id: int, key: str, kind: str, buttons: tuple[tuple[Button, ...], ...] = (),
                      backup_key: str | None = None) -> Envelope:
    """`doc` for one Telegram chat; with `backup_key`, Discord gets it (once per key) if Telegram fails."""
    payload = send_payload(telegram_parts(doc), describe_buttons(buttons) or None)
    backup = discord_payload(doc) if backup_key else None
    return Envelope(key, "telegram", str(chat_id), kind, payload, backup, backup_key)


def discord_envelope(doc: Doc, key: str, kind: str) -> Envelope:
    return Envelope(key, "discord", WEBHOOK, kind, discord_payload(doc))


def remove_buttons_envelope(chat_id: int, message_id: int, key: str) -> Envelope:
    return Envelope(key, "telegram", str(chat_id), "edit", edit_markup_payload(message_id, None))


PHOTO_NAME = "reliability.png"
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def discord_photo_payload(png: bytes, caption: str) -> dict[str, Any]:
    embed = {"title": caption[:256], "image": {"url": f"attachment://{PHOTO_NAME}"}}
    return {"messages": [{"embeds": [embed], "allowed_mentions": NO_MENTIONS, "file": {"name": PHOTO_NAME, "b64": _b64(png)}}]}


def telegram_photo_envelope(png: bytes, caption: str, chat_id: int, key: str, backup_key: str | None = None) -> Envelope:
    """A picture with a short caption; queued after the text it belongs to, so it arrives after it."""
    payload = photo_payload(_b64(png), escape(caption[:CAPTION_LIMIT]))
    backup = discord_photo_payload(png, caption) if backup_key else None
    return Envelope(key, "telegram", str(chat_id), "photo", payload, backup, backup_key)
