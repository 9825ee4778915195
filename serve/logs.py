"""Process logging: plain lines or JSON lines, and every configured secret redacted from every record.

redaction.py rewrites each log record as it is created (message and traceback), whoever logs it:
our code, httpx, alpaca-py, python-telegram-bot, APScheduler. `settings_secrets` names everything
in the settings that must never be printed, so the command line registers them all at start.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO, Any

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from redaction import redact, register_secrets, webhook_secret
from config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record was passed as `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exception, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else redact(str(value))
        return json.dumps(entry, ensure_ascii=False)


class _Stderr(logging.Handler):
    """To whatever sys.stderr is when a record comes (a redirected stream, a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def configure_logging(fmt: str, level: str, stream: IO[str] | None = None) -> None:
    """Replace the root logger's handlers with one to `stream` (stderr) in the chosen format."""
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Library chatter at INFO (every poll, every scheduler wake-up) would bury our own lines.
    for name in ("alembic", "telegram", "httpx", "httpcore", "urllib3", "aiohttp.access"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # APScheduler's own warnings (a run skipped or missed) are said once, in our words, by serve/scheduler.py.
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, root.level))


def configure_command_logging(settings: Settings, verbose: bool, stream: IO[str] | None = None) -> None:
    """Logging for any command: TB_LOG_FORMAT always; the level TB_LOG_LEVEL when it is set, else
    warnings only (info with --verbose), so a shell command stays quiet unless asked."""
    level = settings.log_level if "log_level" in settings.model_fields_set else ("info" if verbose else "warning")
    if verbose and logging.getLevelName(level.upper()) > logging.INFO:
        level = "info"
    if settings.log_format == "json" or stream is not None:
        configure_logging(settings.log_format, level, stream)
    else:  # plain lines: the handler the command line set up before the settings were read stays
        logging.getLogger().setLevel(level.upper())


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret in `settings`: keys and tokens, the webhook's token, the store's password, and the
    credentials and query values of feed URLs."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
    if settings.discord_webhook_url is not None:
        found.append(webhook_secret(settings.discord_webhook_url.get_secret_value()) or "")
    try:
        password = make_url(settings.database_url).password
    except ArgumentError:
        password = None
    if password:
        found.append(str(password))
    if "rss" in settings.news_sources:  # the Alpaca keys are among the SecretStr above
        from pipeline.data_sources import data_secrets

        found += data_secrets(settings)
    return [s for s in dict.fromkeys(found) if s]


def protect(settings: Settings) -> None:
    """Redact the settings' secrets from every log record from now on."""
    register_secrets(settings_secrets(settings))
