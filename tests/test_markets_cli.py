"""`run --once` as a user runs it with TB_POLYMARKET=on, the Gamma API at a loopback fake; and the settings."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, select

import tracer_bullet
from config import ConfigError, load_settings
from providers.bars import EmbeddedMarketData
from storage.db import open_store
from storage.market_models import MarketSnapshotRow
from storage.models import Run
from tests.conftest import utc
from tests.fake_gamma import FakeGamma, crypto_week

AS_OF = utc(2025, 12, 13, 10, 14)


@pytest.fixture
def gamma() -> Iterator[FakeGamma]:
    # Live markets are the ones open now, whatever the clock says; the prices are the snapshot's last ones.
    closes = {s: EmbeddedMarketData().bars_until(s, AS_OF).bars[-1].close for s in ("BTC", "ETH")}
    server = FakeGamma(events=crypto_week(datetime.now(timezone.utc), closes)).start()
    yield server
    server.stop()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, gamma: FakeGamma, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("TB_DATABASE_URL", database_url)
    monkeypatch.setenv("TB_SENTIMENT_BACKEND", "embedded")
    monkeypatch.setenv("TB_POLYMARKET", "on")
    monkeypatch.setenv("TB_POLYMARKET_BASE_URL", gamma.url)
    monkeypatch.setenv("TB_PROVIDER_READ_TIMEOUT_SECONDS", "1")
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("TB_ARTIFACTS_DIR", str(artifacts))
    return artifacts


def _last_run(database_url: str) -> tuple[int, int]:
    sessions = open_store(database_url)
    with sessions() as session:
        run_id = session.scalar(select(func.max(Run.id)))
        snapshots = session.scalar(select(func.count()).select_from(MarketSnapshotRow).where(
            MarketSnapshotRow.run_id == run_id))
    return run_id, snapshots


def test_run_once_reads_polymarket_stores_snapshots_and_writes_the_section(cli_env, gamma, capsys,
                                                                           database_url) -> None:
    assert tracer_bullet.main(["run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "digest as of 2025-12-13 10:14 UTC" in out and "DEGRADED" not in out
    run_id, snapshots = _last_run(database_url)
    artifact = json.loads((cli_env / f"run-{run_id}.json").read_text())["prediction_markets"]
    assert snapshots == len(artifact["markets"]) == artifact["counts"]["matched"] > 0
    # The embedded run is as of its snapshot; live quotes are not set beside a call that old, and it says so.
    assert artifact["counts"]["comparable"] == 0 and "read live" in artifact["note"]
    assert all(m["comparison"] == "the engine's call and the market quote are from different times"
               for m in artifact["markets"])
    assert gamma.calls("/events")[0]["tag_slug"] == ["crypto"]


@pytest.mark.parametrize("mode", ["down", "garbage"])
def test_run_once_with_polymarket_failing_prints_the_digest_degraded(cli_env, gamma, capsys, mode) -> None:
    gamma.mode = mode
    assert tracer_bullet.main(["run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "digest as of 2025-12-13 10:14 UTC" in out
    degraded = next(line for line in out.splitlines() if line.startswith("DEGRADED"))
    assert "Polymarket: " in degraded and gamma.url in degraded
    assert tracer_bullet.main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["degraded"] is True and any(p.startswith("Polymarket: ") for p in status["problems"])


@pytest.mark.parametrize("name, value, message", [
    ("TB_POLYMARKET", "maybe", "TB_POLYMARKET: Value error, expected on or off"),
    ("TB_POLYMARKET_BASE_URL", "gamma-api.polymarket.com", "TB_POLYMARKET_BASE_URL: Value error, expected an http(s) URL"),
    ("TB_POLYMARKET_MIN_VOLUME", "-1", "TB_POLYMARKET_MIN_VOLUME: Input should be greater than or equal to 0"),
    ("TB_POLYMARKET_TAGS", " , ", "TB_POLYMARKET_TAGS: Value error, name at least one Gamma tag slug"),
])
def test_a_wrong_polymarket_setting_names_its_variable(monkeypatch, name, value, message) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings()


def test_on_off_and_the_defaults(monkeypatch) -> None:
    settings = load_settings()
    assert settings.polymarket is False and settings.polymarket_base_url == "https://gamma-api.polymarket.com"
    assert settings.polymarket_tags == ["crypto"]
    monkeypatch.setenv("TB_POLYMARKET", "on")
    monkeypatch.setenv("TB_POLYMARKET_TAGS", "Crypto, stocks")
    settings = load_settings()
    assert settings.polymarket is True and settings.polymarket_tags == ["crypto", "stocks"]
    monkeypatch.setenv("TB_POLYMARKET", "off")
    assert load_settings().polymarket is False


def test_the_cli_exits_2_on_a_polymarket_typo(monkeypatch, capsys) -> None:
    monkeypatch.setenv("TB_POLYMARKT", "on")
    assert tracer_bullet.main(["run", "--once"]) == 2
    assert "TB_POLYMARKT: not a setting (did you mean TB_POLYMARKET?)" in capsys.readouterr().err
