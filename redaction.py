"""Keep chat tokens out of every log line and stored error.

The Telegram token is part of every Bot API URL and the Discord webhook token part of its URL, so
a library logging a URL (httpx at INFO, python-telegram-bot at DEBUG) would leak it. Once the
secrets are registered, every log record created anywhere in the process is rewritten before a
handler sees it, its exception text included; httpx and httpcore are also kept at WARNING.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any, Iterable

MASK = "<redacted>"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False
# A Telegram token has this shape even when we were not told it (e.g. another bot's in an error).
_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
_QUIET = ("httpx", "httpcore")


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _TOKEN_SHAPE.sub(MASK, text)


def _redacted_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what there is, still redacted
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    return record


def register_secrets(secrets: Iterable[str | None]) -> None:
    """Redact these strings (and anything token-shaped) from every log record from now on."""
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= 6)
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                return _redacted_record(previous(*args, **kwargs))

            logging.setLogRecordFactory(factory)
            _installed = True
    for name in _QUIET:
        if logging.getLogger(name).level < logging.WARNING:
            logging.getLogger(name).setLevel(logging.WARNING)


def webhook_secret(url: str) -> str | None:
    """The token part of a Discord webhook URL (…/webhooks/<id>/<token>)."""
    match = re.search(r"/webhooks/\d+/([^/?#]+)", url)
    return match.group(1) if match else None
