"""`health`: the command line against a real store and the loopback Telegram and Discord fakes."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

import tracer_bullet
from service.composition import utcnow
from serve.lease import TRADER, Lease
from storage.db import open_store
from storage.migrate import head_revision
from storage.models import Run
from storage.provider_models import BreakerRow
from tests.chat_fixtures import TOKEN
from tests.conftest import utc
from tests.fake_discord import WEBHOOK_TOKEN, FakeDiscordWebhook
from tests.fake_telegram import FakeTelegram
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401


def _health(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
            *args: str) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    async def with_fakes() -> int:
        telegram, discord = FakeTelegram(TOKEN), FakeDiscordWebhook()
        await telegram.start()
        await discord.start()
        monkeypatch.setenv("TB_TELEGRAM_BASE_URL", telegram.base_url)
        monkeypatch.setenv("TB_DISCORD_WEBHOOK_URL", discord.url)
        try:  # the command is synchronous: run it beside the fakes' loop
            return await asyncio.to_thread(tracer_bullet.main, ["health", *args])
        finally:
            await telegram.stop()
            await discord.stop()

    code = asyncio.run(with_fakes())
    return code, capsys.readouterr().out


def test_healthy_store_channels_and_a_serve_holding_the_lease(database_url, monkeypatch, capsys) -> None:
    sessions = open_store(database_url)
    Lease(sessions, TRADER, "box:42:abcd", timedelta(minutes=1), utcnow).acquire()
    code, out = _health(monkeypatch, capsys, {"TB_DATABASE_URL": database_url, "TB_TELEGRAM_TOKEN": TOKEN}, "--json")
    report = json.loads(out)
    checks = {c["name"]: c for c in report["checks"]}
    assert code == 0 and report["healthy"] is True
    assert checks["store"]["status"] == "ok" and f"schema at revision {head_revision()}" in checks["store"]["detail"]
    assert checks["serve"]["status"] == "ok" and "box:42:abcd" in checks["serve"]["detail"]
    assert checks["telegram"] == {"name": "telegram", "status": "ok", "detail": "bot @tracer_test_bot"}
    assert checks["discord"] == {"name": "discord", "status": "ok", "detail": "webhook Tracer Bullet"}
    assert checks["cycle"]["status"] == "warn" and checks["broker"]["detail"].startswith("simulated")
    assert TOKEN not in out and WEBHOOK_TOKEN not in out


def test_a_refused_token_an_open_circuit_and_a_failed_cycle_are_unhealthy(database_url, monkeypatch, capsys) -> None:
    sessions = open_store(database_url)
    now = utcnow()
    with sessions.begin() as session:
        session.add(Run(started_at=now, finished_at=now, status="failed", sentiment_backend="embedded",
                        problems=["no headlines and no bars could be read: CoinDesk: HTTP 502"]))
        session.add(BreakerRow(name="rss:CoinDesk", state="open", failures=3, opened_at=now, updated_at=now,
                               last_error="HTTP 502 from https://feeds.example/rss", last_failure_at=now))
    wrong = "1234567890:AAWrongTokenWrongTokenWrongToken_xyz"
    env = {"TB_DATABASE_URL": database_url, "TB_TELEGRAM_TOKEN": wrong, "TB_NEWS_SOURCES": "rss",
           "TB_FEEDS": '{"CoinDesk": "https://feeds.example/rss"}'}
    code, out = _health(monkeypatch, capsys, env)
    assert code == 1
    assert "FAIL telegram: the credentials were refused (HTTP 401)" in out
    assert "FAIL provider rss:CoinDesk: circuit open after 3 failure(s), next try" in out
    assert "HTTP 502 from https://feeds.example/rss" in out
    assert "FAIL cycle: the last cycle" in out and "failed: no headlines and no bars" in out
    assert out.strip().splitlines()[-1].startswith("unhealthy: cycle: ")
    assert wrong not in out


def test_an_unusable_store_is_unhealthy_with_the_reason(tmp_path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'tb.db'}"
    code, out = _health(monkeypatch, capsys, {"TB_DATABASE_URL": url})
    assert code == 1 and "FAIL store: cannot open store" in out and "unhealthy: store" in out


def test_a_stale_lease_means_no_serve_is_running(database_url, monkeypatch, capsys) -> None:
    sessions = open_store(database_url)
    Lease(sessions, TRADER, "gone:1:ff", timedelta(seconds=5), lambda: utc(2026, 1, 1)).acquire()
    code, out = _health(monkeypatch, capsys, {"TB_DATABASE_URL": database_url})
    assert code == 0 and "WARN serve: no serve process holds the trader lease" in out
    assert "WARN chat: no chat channel configured" not in out  # the fakes' webhook is configured
