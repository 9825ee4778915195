"""Outbox envelopes from documents: the Telegram rendering, the Discord rendering, or both."""
from __future__ import annotations

import base64
from typing import Any

from bot.actions import Button, describe_buttons
from bot.message_model import Doc, plain
from bot.outbox import Envelope
from bot.render_discord import NO_MENTIONS, discord_messages
from bot.render_telegram import escape, telegram_parts, to_html
from bot.split import utf16_len
from bot.telegram_sender import edit_markup_payload, photo_payload, send_payload

WEBHOOK = "webhook"


def discord_payload(doc: Doc) -> dict[str, Any]:
    return {"messages": discord_messages(doc)}


def telegram_envelope(doc: Doc, chat_id: int, key: str, kind: str, buttons: tuple[tuple[Button, ...], ...] = (),
                      backup_key: str | None = None, silent: bool = False) -> Envelope:
    """`doc` for one Telegram chat; with `backup_key`, Discord gets it (once per key) if Telegram fails;
    `silent`: shown without a sound (the chat subscribed so)."""
    payload = send_payload(telegram_parts(doc), describe_buttons(buttons) or None, silent)
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


def discord_photo_payload(png: bytes, caption: str, name: str = PHOTO_NAME) -> dict[str, Any]:
    embed = {"title": caption[:256], "image": {"url": f"attachment://{name}"}}
    return {"messages": [{"embeds": [embed], "allowed_mentions": NO_MENTIONS, "file": {"name": name, "b64": _b64(png)}}]}


def telegram_photo_envelope(png: bytes, caption: str, chat_id: int, key: str, backup_key: str | None = None,
                            silent: bool = False) -> Envelope:
    """A picture with a short caption; queued after the text it belongs to, so it arrives after it."""
    payload = photo_payload(_b64(png), escape(caption[:CAPTION_LIMIT]), silent)
    backup = discord_photo_payload(png, caption) if backup_key else None
    return Envelope(key, "telegram", str(chat_id), "photo", payload, backup, backup_key)


# --- a picture whose caption is a whole document (/chart): one message carrying both ---
# The PNG's bytes travel in the outbox row (base64 in the payload), like the evaluation's picture: the
# row is the message, so a restart sends what was drawn for the command, once, and never draws again.

def caption_fits(doc: Doc) -> bool:
    return utf16_len(plain(doc)) <= CAPTION_LIMIT


def telegram_doc_photo_envelopes(doc: Doc, png: bytes, chat_id: int, key: str, kind: str) -> list[Envelope]:
    """The picture with `doc` as its caption; a document too long for a caption follows as a message of its own
    (key:text), and the photo then carries the title only."""
    if caption_fits(doc):
        return [Envelope(key, "telegram", str(chat_id), kind, photo_payload(_b64(png), to_html(doc)))]
    return [Envelope(key, "telegram", str(chat_id), kind, photo_payload(_b64(png), f"<b>{escape(doc.title[:200])}</b>")),
            telegram_envelope(doc, chat_id, f"{key}:text", kind)]


def discord_doc_photo_payload(doc: Doc, png: bytes, name: str) -> dict[str, Any]:
    """`doc` as embeds with the picture attached to the first message and shown in its last embed."""
    messages = discord_messages(doc)
    first = dict(messages[0])
    embeds = [dict(e) for e in first["embeds"]]
    embeds[-1]["image"] = {"url": f"attachment://{name}"}
    first.update(embeds=embeds, file={"name": name, "b64": _b64(png)})
    return {"messages": [first, *messages[1:]]}
