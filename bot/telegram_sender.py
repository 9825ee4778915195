"""Delivers outbox messages through python-telegram-bot's Bot, turning its errors into delivery decisions."""
from __future__ import annotations

import base64
import warnings
from datetime import timedelta
from typing import Any, Mapping

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.delivery import Moved, Permanent, RetryLater, Transient
from bot.render_telegram import PARSE_MODE

SEND, EDIT_MARKUP, PHOTO = "send", "edit_markup", "photo"
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the int form of retry_after is going away
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def send_payload(parts: list[str], keyboard: list[list[dict[str, str]]] | None = None) -> dict[str, Any]:
    return {"method": SEND, "parts": parts, "keyboard": keyboard}


def photo_payload(png_base64: str, caption_html: str) -> dict[str, Any]:
    return {"method": PHOTO, "png": png_base64, "caption": caption_html}


def edit_markup_payload(message_id: int, keyboard: list[list[dict[str, str]]] | None = None) -> dict[str, Any]:
    return {"method": EDIT_MARKUP, "message_id": message_id, "keyboard": keyboard}


class TelegramSender:
    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

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
                    link_preview_options=_NO_PREVIEW,
                )
            elif payload["method"] == PHOTO:
                await self.bot.send_photo(chat_id=chat_id, photo=base64.b64decode(payload["png"]),
                                          caption=payload["caption"], parse_mode=PARSE_MODE)
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
            raise Transient(f"Telegram not reachable: {exc.message}") from exc
        except TelegramError as exc:  # InvalidToken, Conflict, ...: keep the message, say why
            raise Transient(f"Telegram error: {exc.message}") from exc
