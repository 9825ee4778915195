from __future__ import annotations

import pytest

from providers.catalogue import load_catalogue

from config import LIVE_TRADING_PHRASE, ConfigError, load_settings

CATALOGUE = load_catalogue()


def test_defaults_need_no_environment() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///tracer_bullet.db"
    assert settings.sentiment_backend == "auto"
    assert settings.universe == ["BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB", "COIN", "MSTR"]
    assert settings.trading_mode == "simulated"


def test_invalid_value_names_the_variable_and_the_allowed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_SENTIMENT_BACKEND", "finbrt")
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert "TB_SENTIMENT_BACKEND" in message and "'auto', 'finbert' or 'embedded'" in message and "finbrt" in message


def test_misspelt_variable_is_an_error_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_DATABSE_URL", "sqlite://")
    with pytest.raises(ConfigError, match="TB_DATABSE_URL: not a setting \\(did you mean TB_DATABASE_URL\\?\\)"):
        load_settings()


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_HORIZON_HOURS", "soon")
    monkeypatch.setenv("TB_UNIVERSE", "BTC,DOGGO")
    with pytest.raises(ConfigError) as err:
        load_settings(known_symbols=CATALOGUE)
    assert "TB_HORIZON_HOURS" in str(err.value) and "DOGGO" in str(err.value)


def test_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_TELEGRAM_OPERATORS", "123, 456")
    monkeypatch.setenv("TB_UNIVERSE", "btc,eth")
    settings = load_settings()
    assert settings.telegram_operators == [123, 456]
    assert settings.universe == ["BTC", "ETH"]


def test_garbled_operator_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_TELEGRAM_OPERATORS", "123,alice")
    with pytest.raises(ConfigError, match="TB_TELEGRAM_OPERATORS"):
        load_settings()


def test_secrets_never_appear_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_TELEGRAM_TOKEN", "123456:SECRET-token-value")
    monkeypatch.setenv("TB_LIVE_TRADING", "maybe")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "SECRET" not in str(err.value)
    monkeypatch.delenv("TB_LIVE_TRADING")
    assert "SECRET" not in repr(load_settings())


def test_env_file_is_read_and_checked(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("TB_HORIZON_HOURS=12\n")
    assert load_settings().horizon_hours == 12
    (tmp_path / ".env").write_text("TB_HORIZON_HOURZ=12\n")
    with pytest.raises(ConfigError, match="TB_HORIZON_HOURZ|horizon_hourz"):
        load_settings()


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({}, "simulated"),
        ({"TB_ALPACA_KEY": "k", "TB_ALPACA_SECRET": "s"}, "paper"),
        ({"TB_ALPACA_KEY": "k", "TB_ALPACA_SECRET": "s", "TB_LIVE_TRADING": "1"}, "paper"),
        ({"TB_ALPACA_KEY": "k", "TB_ALPACA_SECRET": "s", "TB_LIVE_TRADING": "1", "TB_LIVE_TRADING_CONFIRM": "yes"}, "paper"),
        (
            {"TB_ALPACA_KEY": "k", "TB_ALPACA_SECRET": "s", "TB_LIVE_TRADING": "1", "TB_LIVE_TRADING_CONFIRM": LIVE_TRADING_PHRASE},
            "live",
        ),
    ],
)
def test_live_trading_needs_two_explicit_settings(monkeypatch: pytest.MonkeyPatch, env: dict, mode: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings().trading_mode == mode
