"""Delivers outbox messages through python-telegram-bot's Bot, turning its errors into delivery decisions.

The Bot API has no idempotency key and no way to look a sent message up, so a send whose answer
never came cannot be checked. Two things keep that case rare and visible: a send waits
SEND_TIMEOUT_FACTOR times the configured HTTP timeout for Telegram's answer (a slow answer is still
an answer), and a request that went out without an answer is Unknown, not Transient: the outbox
waits before sending it again. A request that never left (no connection, the pool was full) is Transient.
"""
from __future__ import annotations

import base64
import warnings
from datetime import timedelta
from typing import Any, Mapping

import httpx
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.delivery import Moved, Permanent, RetryLater, Transient, Unknown
from bot.render_telegram import PARSE_MODE

SEND, EDIT_MARKUP, PHOTO = "send", "edit_markup", "photo"
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Telegram answers a send within a second or two; one that takes longer is slow, not lost. Waiting
# this many times the HTTP timeout (60 s at the default 15 s) before giving up on its answer keeps a
# slow answer from becoming a second copy (tests/test_outbox_unknown.py measures it).
SEND_TIMEOUT_FACTOR = 4.0
# What httpx raises once the request may have reached Telegram: the answer is what is missing.
_AFTER_SENDING = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the int form of retry_after is going away
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _quiet(silent: bool) -> dict[str, Any]:
    """A chat subscribed `silent` gets its messages without a sound; others' payloads stay as they were."""
    return {"silent": True} if silent else {}


def send_payload(parts: list[str], keyboard: list[list[dict[str, str]]] | None = None,
                 silent: bool = False) -> dict[str, Any]:
    return {"method": SEND, "parts": parts, "keyboard": keyboard, **_quiet(silent)}


def photo_payload(png_base64: str, caption_html: str, silent: bool = False) -> dict[str, Any]:
    return {"method": PHOTO, "png": png_base64, "caption": caption_html, **_quiet(silent)}


def _sound(payload: Mapping[str, Any]) -> dict[str, Any]:
    """disable_notification only where asked: a request for any other chat is as it always was."""
    return {"disable_notification": True} if payload.get("silent") else {}


def edit_markup_payload(message_id: int, keyboard: list[list[dict[str, str]]] | None = None) -> dict[str, Any]:
    return {"method": EDIT_MARKUP, "message_id": message_id, "keyboard": keyboard}


class TelegramSender:
    channel = "telegram"

    def __init__(self, bot: Bot, send_timeout: float | None = None) -> None:
        self.bot = bot
        # The answer to a send is waited for longer than other calls (see SEND_TIMEOUT_FACTOR).
        self.send_timeout = send_timeout if send_timeout is not None else SEND_TIMEOUT_FACTOR * _read_timeout(bot)

    def part_count(self, payload: Mapping[str, Any]) -> int:
        return len(payload["parts"]) if payload["method"] == SEND else 1

    def _markup(self, keyboard: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
        return InlineKeyboardMarkup.de_json({"inline_keyboard": keyboard}, self.bot) if keyboard else None

    async def send_part(self, destination: str, payload: Mapping[str, Any], index: int) -> None:
        chat_id = int(destination)
        try:
            if payload["method"] == SEND:
                last = index == len(payload["parts"]) - 1  # buttons ride on the last part
                await self.bot.send_message(
                    chat_id=chat_id, text=payload["parts"][index], parse_mode=PARSE_MODE,
                    reply_markup=self._markup(payload.get("keyboard")) if last else None,
                    link_preview_options=_NO_PREVIEW, read_timeout=self.send_timeout, **_sound(payload),
                )
            elif payload["method"] == PHOTO:
                await self.bot.send_photo(chat_id=chat_id, photo=base64.b64decode(payload["png"]),
                                          caption=payload["caption"], parse_mode=PARSE_MODE, read_timeout=self.send_timeout,
                                          **_sound(payload))
            else:
                await self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=payload["message_id"], reply_markup=self._markup(payload.get("keyboard")),
                )
        except RetryAfter as exc:
            raise RetryLater(retry_after_seconds(exc), str(exc)) from exc
        except ChatMigrated as exc:
            raise Moved(str(exc.new_chat_id)) from exc
        except BadRequest as exc:  # before NetworkError: PTB derives BadRequest from it
            if "not modified" in exc.message.lower():
                return  # the edit is already in place
            raise Permanent(f"Telegram refused the message: {exc.message}") from exc
        except Forbidden as exc:
            raise Permanent(f"Telegram forbids it (bot blocked or not in the chat): {exc.message}") from exc
        except NetworkError as exc:
            if payload["method"] != EDIT_MARKUP and isinstance(exc.__cause__, _AFTER_SENDING):
                raise Unknown(f"Telegram's answer to a send timed out or broke off ({exc.__cause__.__class__.__name__}, "
                              f"waited up to {self.send_timeout:g} s): the message may have been delivered") from exc
            raise Transient(f"Telegram not reachable: {exc.message}") from exc
        except TelegramError as exc:  # InvalidToken, Conflict, ...: keep the message, say why
            raise Transient(f"Telegram error: {exc.message}") from exc


def _read_timeout(bot: Bot) -> float:
    """The read timeout the bot's HTTP client was built with (bot/telegram_app.py: TB_CHAT_TIMEOUT_SECONDS)."""
    timeout = getattr(bot.request, "read_timeout", None)
    return float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else 15.0
