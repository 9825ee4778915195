"""One Settings object for the whole product: environment (prefix TB_) and `.env`, validated at start."""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Literal, Mapping

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from intelligence.assets import CATALOGUE

ENV_PREFIX = "TB_"
# The assets the embedded snapshot has bars for; the catalogue may know more.
EMBEDDED_UNIVERSE = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB")
LIVE_TRADING_PHRASE = "I accept that live trading uses real money"

# Real endpoints, used once a network is there; the embedded snapshots of the same feeds
# (providers/embedded/feeds) are what runs by default.
DEFAULT_FEEDS = {
    "CoinDesk": "https://www.coindesk.com/arc/outboundfeeds/rss",
    "Cointelegraph": "https://cointelegraph.com/rss",
    "Decrypt": "https://decrypt.co/feed",
    "PR Newswire": "https://www.prnewswire.com/rss/news-releases-list.rss",
    "The Block": "https://www.theblock.co/rss.xml",
}


class ConfigError(Exception):
    """A setting is wrong; the message names the variable and what is allowed."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_default=True,
    )

    database_url: str = "sqlite:///tracer_bullet.db"
    artifacts_dir: Path = Path("artifacts")

    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_operators: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_webhook_url: SecretStr | None = None
    discord_token: SecretStr | None = None

    alpaca_key: SecretStr | None = None
    alpaca_secret: SecretStr | None = None
    alpaca_trading_url: str | None = None
    alpaca_data_url: str | None = None
    live_trading: bool = False
    live_trading_confirm: SecretStr | None = None

    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "TB_ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = None

    sentiment_backend: Literal["auto", "finbert", "embedded"] = "auto"
    finbert_model: str = "ProsusAI/finbert"

    universe: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(EMBEDDED_UNIVERSE))
    feeds: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_FEEDS))
    # None = the embedded snapshots shipped with the project.
    feeds_dir: Path | None = None
    bars_dir: Path | None = None

    # A story's weight halves over one signal horizon: news is judged on the span it is traded on.
    half_life_hours: float = Field(default=24.0, gt=0)
    narrative_window_hours: float = Field(default=72.0, gt=0)
    horizon_hours: int = Field(default=24, gt=0)
    proposal_ttl_minutes: int = Field(default=240, gt=0)
    sim_equity: float = Field(default=100_000.0, gt=0)
    risk_per_trade: float = Field(default=0.01, gt=0, le=0.1)

    @field_validator("telegram_operators", "universe", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("universe")
    @classmethod
    def _known_symbols(cls, value: list[str]) -> list[str]:
        symbols = [s.upper() for s in value]
        unknown = [s for s in symbols if s not in CATALOGUE]
        if unknown:
            raise ValueError(f"unknown symbol(s) {', '.join(unknown)}; known: {', '.join(CATALOGUE)}")
        if not symbols:
            raise ValueError("the universe is empty")
        return symbols

    @property
    def trading_mode(self) -> Literal["simulated", "paper", "live"]:
        if self.alpaca_key is None or self.alpaca_secret is None:
            return "simulated"
        confirmed = (
            self.live_trading_confirm is not None
            and self.live_trading_confirm.get_secret_value() == LIVE_TRADING_PHRASE
        )
        return "live" if self.live_trading and confirmed else "paper"


def _unknown_variables(environ: Mapping[str, str]) -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    errors = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            errors.append(f"{name}: not a setting{hint}")
    return errors


def _describe(error: dict) -> str:
    field = error["loc"][0] if error["loc"] else "?"
    name = "ANTHROPIC_API_KEY" if field == "anthropic_api_key" else ENV_PREFIX + str(field).upper()
    got = error.get("input")
    shown = "" if isinstance(got, (dict, SecretStr)) or "token" in name.lower() or "key" in name.lower() else f" (got {got!r})"
    return f"{name}: {error['msg']}{shown}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`; every problem reported at once, each naming its variable."""
    problems = _unknown_variables(os.environ)
    settings = None
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += [_describe(e) for e in exc.errors()]
    if problems or settings is None:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return settings
