"""Structured logs: JSON lines that parse, and no secret from the settings in any record, whoever logs it."""
from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest

from serve.logs import configure_logging, protect, settings_secrets
from config import load_settings

SECRETS = {
    "telegram_token": "7654321098:AAFakeTokenForLogs_abcdefghijklmnopq",
    "discord_webhook_url": "https://discord.com/api/webhooks/123456/WebhookTokenSecretXYZ",
    "alpaca_key": "AKLOGKEY123456", "alpaca_secret": "alpacaSecretValue987",
    "anthropic_api_key": "sk-ant-logtest-0001",
    "database_url": "postgresql+psycopg://tb:pg-Passw0rd-x@db.internal:5432/tb",
}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_every_kind_of_secret_is_collected() -> None:
    private = "https://user:feedPass77@feeds.example/rss?key=q-Secret-5"
    settings = load_settings(**SECRETS, news_sources="rss", feeds={"Private": private})
    found = settings_secrets(settings)
    for needle in ("AAFakeTokenForLogs", "WebhookTokenSecretXYZ", "AKLOGKEY123456", "alpacaSecretValue987",
                   "sk-ant-logtest-0001", "pg-Passw0rd-x", "feedPass77", "q-Secret-5"):
        assert any(needle in s for s in found), needle


def test_json_lines_carry_no_secret_from_any_logger(restore_logging) -> None:
    settings = load_settings(**SECRETS)
    protect(settings)
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    logging.getLogger("serve.jobs").info("connecting to %s", settings.database_url, extra={"job": "cycle"})
    logging.getLogger("some.library").warning("GET https://api.telegram.org/bot%s/getMe failed",
                                             SECRETS["telegram_token"])
    try:
        raise RuntimeError(f"Alpaca said no to key {SECRETS['alpaca_key']} / {SECRETS['alpaca_secret']}")
    except RuntimeError:
        logging.getLogger("trading").exception("broker call failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [entry["level"] for entry in lines] == ["info", "warning", "error"]
    assert lines[0]["logger"] == "serve.jobs" and lines[0]["job"] == "cycle" and lines[0]["time"].endswith("+00:00")
    assert "Traceback" in lines[2]["exception"] and "<redacted>" in lines[2]["exception"]
    text = stream.getvalue()
    for secret in ("AAFakeTokenForLogs", "pg-Passw0rd-x", "AKLOGKEY123456", "alpacaSecretValue987"):
        assert secret not in text


def test_text_format_and_level(restore_logging) -> None:
    stream = io.StringIO()
    configure_logging("text", "warning", stream)
    logging.getLogger("x").info("not shown")
    logging.getLogger("x").warning("shown")
    assert stream.getvalue().count("\n") == 1 and "WARNING x: shown" in stream.getvalue()


def test_log_settings_are_validated_with_the_allowed_values(monkeypatch) -> None:
    from config import ConfigError

    monkeypatch.setenv("TB_LOG_FORMAT", "xml")
    monkeypatch.setenv("TB_STANDBY", "maybe")
    monkeypatch.setenv("TB_LOG_LEVEL", "WARNING")
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert "TB_LOG_FORMAT: Input should be 'text' or 'json' (got 'xml')" in message
    assert "TB_STANDBY: Input should be 'wait' or 'exit' (got 'maybe')" in message
    assert "TB_LOG_LEVEL" not in message  # upper case is fine


def test_serve_numbers_are_validated(monkeypatch) -> None:
    from config import ConfigError

    monkeypatch.setenv("TB_CYCLE_SECONDS", "0")
    monkeypatch.setenv("TB_LEASE_SECONDS", "1")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "TB_CYCLE_SECONDS: Input should be greater than or equal to 1 (got '0')" in str(error.value)
    assert "TB_LEASE_SECONDS: Input should be greater than or equal to 3 (got '1')" in str(error.value)
