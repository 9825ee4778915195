"""One Settings object for the whole product: environment (prefix TB_) and `.env`, validated at start."""
from __future__ import annotations

import difflib
import math
import os
import re
from datetime import time as dt_time
from pathlib import Path
from typing import Annotated, Any, Callable, Collection, Literal, Mapping, Optional, Sequence

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


ENV_PREFIX = "TB_"
TEST_PREFIX = "TB_TEST_"
# The assets the embedded snapshot has bars for (two US stocks its crypto news talks about among them);
# the catalogue knows hundreds more.
EMBEDDED_UNIVERSE = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB", "COIN", "MSTR")
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


# The generic bounds of every numeric setting (each field may set tighter ones): beyond these a value
# is a typo, and the arithmetic it feeds (timedelta, sizing, SQL LIMIT) would overflow.
MAX_MAGNITUDE = 1e12
MAX_INTEGER = 2**31 - 1
MAX_DURATION_DAYS = 36_500  # a century: now ± this is still a valid date
DURATION_UNITS = {"_seconds": 86_400.0, "_minutes": 1_440.0, "_hours": 24.0, "_days": 1.0}


def check_number(field: str, value: object) -> object:
    """`value` unchanged when it is no number or a number within the generic bounds; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        raise ValueError(f"must be at most {MAX_INTEGER:,} in magnitude")
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"must be at most {MAX_MAGNITUDE:g} in magnitude")
    for suffix, per_day in DURATION_UNITS.items():
        if field.endswith(suffix) and abs(value) > MAX_DURATION_DAYS * per_day:
            raise ValueError(f"must be at most {MAX_DURATION_DAYS * per_day:,.0f} ({MAX_DURATION_DAYS:,} days)")
    return value


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def mask_url(url: str) -> str:
    """`url` without its user and password and with every query value replaced by ***: what may be
    shown or stored of a URL that can carry a credential (a feed's token, a proxy password)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is no number: nothing of it can be trusted to be harmless
        return "<unparseable URL>"
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    query = urlencode([(key, "***") for key, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, host + port, parts.path, query, ""))


def mask_urls(text: str) -> str:
    """Every URL inside `text` masked as by `mask_url`."""
    return _URL.sub(lambda m: mask_url(m.group(0)), text)


class ConfigError(Exception):
    """A setting is wrong; the message names the variable and what is allowed."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_feed_urls(feeds: object) -> None:
    """TB_FEEDS must name at least one http(s) URL for the rss source."""
    from urllib.parse import urlsplit

    if not isinstance(feeds, dict):
        raise ValueError("rss needs TB_FEEDS to be valid (a JSON object of name to URL)")
    if not feeds:
        raise ValueError("rss needs at least one feed in TB_FEEDS (a JSON object of name to URL)")
    bad = [name for name, url in feeds.items() if urlsplit(str(url)).scheme not in ("http", "https")
           or not urlsplit(str(url)).hostname]
    if bad:
        raise ValueError(f"rss needs http(s) URLs in TB_FEEDS; not one: {', '.join(bad)}")


def _need_alpaca_keys(data: Mapping[str, object], what: str) -> None:
    if data.get("alpaca_key") is None or data.get("alpaca_secret") is None:
        raise ValueError(f"{what} needs TB_ALPACA_KEY and TB_ALPACA_SECRET, which are not set")


NewsSource = Literal["embedded", "rss", "alpaca"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_default=True,
        # inf and nan pass a `gt=0` bound and overflow later (timedelta, sizing); refused here for every float.
        allow_inf_nan=False,
    )

    @field_validator("*")
    @classmethod
    def _finite_and_in_range(cls, value: object, info: ValidationInfo) -> object:
        """Every numeric setting, whatever its own bounds: a magnitude the code can compute with, and a
        duration (a name ending in a time unit) that fits a date. One rule here, not one per field."""
        return check_number(info.field_name or "", value)

    database_url: str = "sqlite:///tracer_bullet.db"
    artifacts_dir: Path = Path("artifacts")

    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_operators: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_webhook_url: SecretStr | None = None
    discord_token: SecretStr | None = None
    # Root of the Discord API for the optional bot (unset: discord.com); tests point it at a loopback fake.
    discord_api_url: str | None = None
    # Chat (bot/): who may read, when digests go out, how hard to push the channels.
    # Read-only users (digests, /status) besides the operators; group members of a subscribed chat read too.
    telegram_subscribers: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Defaults for /subscribe without arguments: the digest time of day and its timezone.
    digest_time: str = "08:00"
    digest_timezone: str = "UTC"
    # Signals at least this convinced go to subscribers with immediate alerts at once, not at digest time.
    alert_conviction: float = Field(default=0.6, gt=0, le=1)
    # Account figures (/pnl, /positions, /orders...) answer in groups only if this is true; else "ask me in private".
    account_in_groups: bool = False
    # HTTP timeouts and long-poll length for the chat APIs; a hung request must not stall the outbox.
    chat_timeout_seconds: float = Field(default=15.0, gt=0)
    telegram_poll_seconds: int = Field(default=30, ge=0, le=50)
    # Telegram allows about 30 messages/s overall and 20/min per group; stay under the first.
    telegram_messages_per_second: float = Field(default=25.0, gt=0, le=30)
    # Outbox retries: first retry after this, doubling up to the cap; nothing is ever dropped.
    outbox_backoff_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=300.0, gt=0)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    # A burst of /status, /digest, /signals, /proposals shares one read of the store for this long;
    # anything changed through the bot or serve is seen at once, other writers within this bound. 0: off.
    chat_read_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # Chat under load. A command the store cannot take yet (another process holds it) is tried again until
    # it can; its answer says how long it waited when that was at least this long.
    chat_store_note_seconds: float = Field(default=3.0, ge=0)
    # A stranger gets one refusal per interval; what they send meanwhile is logged, not answered.
    telegram_refusal_interval_seconds: float = Field(default=3600.0, ge=0)
    # Refusals go out at most this fast, on a budget of their own: operators' answers never queue behind them.
    telegram_refusals_per_second: float = Field(default=2.0, gt=0, le=30)
    # /eval answers with the last summary made while it is younger than this; older, it is made again, once
    # for everyone asking meanwhile (each one resolves outcomes and writes an eval_runs/ directory).
    chat_eval_fresh_minutes: float = Field(default=15.0, ge=0)
    # The smallest order the broker takes (Alpaca: 1 USD for a fractional order); /size refuses a size worth
    # less, with the reason. Never below one cent.
    min_order_notional: float = Field(default=1.0, ge=0.01)

    @field_validator("telegram_subscribers", mode="before")
    @classmethod
    def _subscriber_ids(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("digest_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        from datetime import time

        try:
            return time.fromisoformat(value).strftime("%H:%M")
        except ValueError:
            raise ValueError("expected a time of day as HH:MM, e.g. 08:30") from None

    @field_validator("digest_timezone")
    @classmethod
    def _timezone_name(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA timezone name, e.g. Europe/Berlin or UTC") from None
        return value

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
    # --- Claude polarity cross-check (providers/claude.py, pipeline/crosscheck.py); runs only with a key ---
    # Haiku: a label and a number per headline need no bigger model, and it answers within the cycle.
    anthropic_model: str = Field(default="claude-haiku-4-5", min_length=1)
    # The headlines that move an asset's narrative most are the ones worth a second opinion.
    claude_top_n: int = Field(default=5, ge=1, le=50)
    # Claude's share of a checked headline's polarity: a nudge, the model's score keeps the majority.
    claude_weight: float = Field(default=0.3, ge=0, le=1)
    # A hung API must not stall the cycle; past this the cross-check is skipped and the run degraded.
    claude_timeout_seconds: float = Field(default=20.0, gt=0, le=120)

    sentiment_backend: Literal["auto", "finbert", "embedded"] = "auto"
    finbert_model: str = "ProsusAI/finbert"
    # FinBERT with int8 Linear layers: about 1.5-2x faster scoring on CPU, labels agree with fp32 on
    # >= 99% of sent_valid.csv (bench/sentiment_int8_agreement.py). Off by default: fp32 is the reference.
    finbert_quantize: bool = False

    @field_validator("finbert_quantize")
    @classmethod
    def _quantize_needs_finbert(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("sentiment_backend") == "embedded":  # would be silently ignored
            raise ValueError("quantises FinBERT only, and TB_SENTIMENT_BACKEND=embedded runs no FinBERT")
        return value

    universe: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(EMBEDDED_UNIVERSE))
    # The user's own catalogue entries (README "Universe"): same CSV columns as the shipped catalogue;
    # an entry adds an asset or replaces the shipped one with its symbol.
    assets_file: Path | None = None
    # JSON decoded by the validator below, so a typo is an error that names TB_FEEDS, not a traceback.
    feeds: Annotated[dict[str, str], NoDecode] = Field(default_factory=lambda: dict(DEFAULT_FEEDS))
    # None = the embedded snapshots shipped with the project.
    feeds_dir: Path | None = None
    bars_dir: Path | None = None

    # --- live data (providers/http_feeds.py, providers/alpaca_data.py, pipeline/data_sources.py; README "Live data") ---
    # "embedded" is the shipped snapshot, run as of its newest headline; anything else runs as of now:
    # "rss" reads TB_FEEDS over HTTP, "alpaca" reads Alpaca's news API. Mixing the two would date one run twice.
    news_sources: Annotated[list[NewsSource], NoDecode] = Field(default_factory=lambda: list[NewsSource](["embedded"]))
    market_data: Literal["embedded", "alpaca"] = "embedded"
    # A provider that does not answer in time must not stall the cycle (alpaca-py and feeds set none).
    provider_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    provider_read_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    # A news feed is a few hundred kB; far more is a wrong URL or a hostile server filling memory.
    feed_max_bytes: int = Field(default=5_000_000, ge=1024)
    # After this many failures in a row a provider is left alone for the cool-down, then tried once.
    breaker_failures: int = Field(default=3, ge=1, le=100)
    breaker_cooldown_seconds: float = Field(default=300.0, gt=0)
    # One bar interval per cycle (the price timescales follow it); the look-back covers the price
    # score's week-long volatility baseline on hourly bars (daily bars need about 60 days).
    alpaca_bar_timeframe: Literal["1Min", "5Min", "15Min", "30Min", "1Hour", "4Hour", "1Day"] = "1Hour"
    alpaca_bar_lookback_days: float = Field(default=10.0, gt=0, le=3650)
    # Free Alpaca accounts may read recent stock bars from IEX only; SIP needs a subscription.
    alpaca_stock_feed: Literal["iex", "sip"] = "iex"

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        import json

        try:
            return json.loads(value)
        except ValueError:
            raise ValueError('expected a JSON object of feed name to URL, e.g. {"CoinDesk": "https://…/rss"}') from None

    @field_validator("news_sources", mode="before")
    @classmethod
    def _news_source_list(cls, value: object) -> object:
        value = _split_csv(value)
        return [v.strip().lower() for v in value] if isinstance(value, list) else value

    @field_validator("news_sources")
    @classmethod
    def _news_sources_fit_together(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value:
            raise ValueError("no news source; allowed: embedded, or rss and/or alpaca (comma-separated)")
        if "embedded" in value and len(value) > 1:
            raise ValueError("embedded (the snapshot, as of its newest headline) cannot be mixed with live "
                             "sources (as of now); use embedded alone, or rss and/or alpaca")
        if "rss" in value:
            _check_feed_urls(info.data.get("feeds"))
        if "alpaca" in value:
            _need_alpaca_keys(info.data, "alpaca")
        return list(dict.fromkeys(value))

    @field_validator("market_data")
    @classmethod
    def _market_data_needs_keys(cls, value: str, info: ValidationInfo) -> str:
        if value == "alpaca":
            _need_alpaca_keys(info.data, "alpaca")
        return value

    # A story's weight halves over one signal horizon: news is judged on the span it is traded on.
    half_life_hours: float = Field(default=24.0, gt=0)
    narrative_window_hours: float = Field(default=72.0, gt=0)
    horizon_hours: int = Field(default=24, gt=0)
    # Fitting a calibrator on fewer resolved calls than this chases noise; before it, the prior
    # centred on the base rate speaks alone.
    calibration_min_outcomes: int = Field(default=30, ge=1)
    # Earlier divergences per asset that adapt the trigger: about a quarter of a year of daily
    # cycles, so the bar follows the current regime rather than all of history.
    divergence_history: int = Field(default=60, ge=0)
    # A hype cascade is a burst inside this span: a few hours on a 24/7 tape (replay widens it to
    # at least one bar, since date-only news arrives in daily batches).
    hype_window_hours: float = Field(default=6.0, gt=0)
    proposal_ttl_minutes: int = Field(default=240, gt=0)
    sim_equity: float = Field(default=100_000.0, gt=0)
    risk_per_trade: float = Field(default=0.01, gt=0, le=0.1)

    # --- prediction markets (providers/polymarket.py, pipeline/markets.py; README "Prediction markets") ---
    # on|off. Read only: the crowd's odds on the universe's prices beside the engine's calls; this product never
    # trades on Polymarket. Off by default: its data is live only (no snapshot of it ships), so it needs the network.
    polymarket: bool = False
    # Root of Polymarket's public Gamma API (no key); tests point it at a loopback fake.
    polymarket_base_url: str = "https://gamma-api.polymarket.com"
    # Gamma tag slugs whose open events are read each cycle, comma-separated (e.g. crypto,stocks).
    polymarket_tags: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["crypto"])
    # A market with less resting liquidity (USD) than this says little: it is left out, and counted.
    polymarket_min_liquidity: float = Field(default=1000.0, ge=0)
    # Likewise a market with less traded volume (USD) than this.
    polymarket_min_volume: float = Field(default=10000.0, ge=0)

    @field_validator("polymarket", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
            raise ValueError("expected on or off")
        return value

    @field_validator("polymarket_base_url")
    @classmethod
    def _gamma_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s) URL, e.g. https://gamma-api.polymarket.com")
        return value.strip().rstrip("/")

    @field_validator("polymarket_tags", mode="before")
    @classmethod
    def _tag_list(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("polymarket_tags")
    @classmethod
    def _tags_given(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one Gamma tag slug, e.g. crypto")
        return [tag.lower() for tag in value]

    # --- evaluation (eval/): where runs are written and when the weekly summary goes out ---
    eval_runs_dir: Path = Path("eval_runs")
    # Monday morning: the past week's horizons have closed and the new week has not started trading.
    weekly_eval_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly_eval_time: dt_time = dt_time(8, 0)
    weekly_eval_timezone: str = "UTC"

    @field_validator("weekly_eval_timezone")
    @classmethod
    def _weekly_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA timezone name, e.g. Europe/Berlin or UTC") from None
        return value

    # --- trading guards (trading/guards.py) and execution; README "Trading" lists them all ---
    # Off unless set: approving without a human is a choice an operator makes explicitly.
    auto_approve_probability: float | None = Field(default=None, gt=0.5, lt=1)
    # Loss if the stop is hit, as a share of equity: twice the sizing budget leaves room for /size.
    max_risk_per_trade: float = Field(default=0.02, gt=0, le=0.2)
    # One symbol never holds more than this share of equity, nor more than this many USD.
    max_position_pct: float = Field(default=0.20, gt=0, le=1)
    max_position_notional: float = Field(default=25_000.0, gt=0)
    max_open_positions: int = Field(default=5, gt=0)
    # Sum of |position value| over equity: 1.0 means no leverage.
    max_gross_exposure: float = Field(default=1.0, gt=0, le=4)
    # Breaching either halts trading (and alerts): losses compound faster than operators read chat.
    daily_loss_limit: float = Field(default=0.03, gt=0, lt=1)
    max_drawdown: float = Field(default=0.10, gt=0, lt=1)
    symbol_cooldown_minutes: float = Field(default=60.0, ge=0)
    max_orders_per_minute: int = Field(default=5, gt=0)
    # Below this a signal is too close to a coin flip to pay fees on.
    min_probability: float = Field(default=0.52, ge=0.5, lt=1)
    # A price older than this (in market time) is not a price to trade on.
    max_data_age_minutes: float = Field(default=120.0, gt=0)
    # Sizing a proposal above this multiple of the engine's suggestion needs a confirmation.
    confirm_size_multiple: float = Field(default=1.0, gt=0)
    # Take-profit distance in units of the stop distance (reward to risk) for bracket orders.
    take_profit_ratio: float = Field(default=1.5, gt=0)
    sim_slippage_bps: float = Field(default=5.0, ge=0, le=500)
    sim_fee_bps: float = Field(default=10.0, ge=0, le=500)
    # Network calls to the broker must end: alpaca-py sets no timeout of its own.
    broker_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    reconcile_minutes: float = Field(default=5.0, gt=0)
    # --- exits (trading/exits.py; README "Trading") ---
    # A position opened from a signal closes at market once the signal's horizon has passed (the
    # probability was a claim about that horizon), unless an operator keeps it with /keep.
    horizon_exit: bool = True

    # --- serve (cli/serve.py, serve/jobs.py, serve/lease.py; README "Running it for months") ---
    # A cycle reads, scores and proposes; fresh hourly bars make a quarter of an hour often enough.
    # Crypto runs around the clock, equities only while NYSE is open. Seconds, so tests can run it fast.
    cycle_seconds: float = Field(default=900.0, ge=1, le=86400)
    # Expiry, order sync, the account watch (auto-HALT) and auto-approve should react within a minute.
    trading_tick_seconds: float = Field(default=60.0, ge=1, le=3600)
    # How often subscriptions are checked for a digest whose local time has come.
    digest_check_seconds: float = Field(default=30.0, ge=1, le=3600)
    # Outcomes resolve once a horizon's bars have closed; hourly is finer than any horizon.
    resolve_minutes: float = Field(default=60.0, gt=0, le=10080)
    # Artifacts, evaluation runs and prediction-market quotes no evaluation reads are deleted after this
    # many days (checked daily); 0 keeps them forever.
    retention_days: float = Field(default=90.0, ge=0)
    # The trader lease (one `serve` trades at a time): renewed every third of this; a holder that
    # crashed is replaced once it runs out, so this is also the longest a takeover waits.
    lease_seconds: float = Field(default=60.0, ge=3, le=3600)
    # A second `serve` on the same store: "wait" stands by and takes over when the first stops, "exit" leaves.
    standby: Literal["wait", "exit"] = "wait"
    # On SIGTERM a running cycle may finish for this long; past it the process exits and the store
    # rolls the cycle's open transaction back (the run is marked interrupted at the next start).
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, le=600)
    # "json": one JSON object per log line (for log shippers); secrets are redacted either way.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("standby", "log_format", "log_level", mode="before")
    @classmethod
    def _lower_case_choice(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("telegram_operators", "universe", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("universe")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        # Whether the catalogue knows each symbol is checked where the app is built (service/), which
        # may read the catalogue; settings sit below every other room and import none of them.
        symbols = [s.upper() for s in value]
        if not symbols:
            raise ValueError("the universe is empty")
        doubled = sorted({s for s in symbols if symbols.count(s) > 1})
        if doubled:
            raise ValueError(f"{', '.join(doubled)} listed more than once")
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
        # TB_TEST_*: the test suite's own variables (TB_TEST_DATABASE_URL, tests/pg_fixtures.py), not settings.
        if name.startswith(ENV_PREFIX) and name not in known and not name.startswith(TEST_PREFIX):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            errors.append(f"{name}: not a setting{hint}")
    return errors


def _describe(error: ErrorDetails) -> str:
    field = error["loc"][0] if error["loc"] else "?"
    name = "ANTHROPIC_API_KEY" if field == "anthropic_api_key" else ENV_PREFIX + str(field).upper()
    got = error.get("input")
    shown = "" if isinstance(got, (dict, SecretStr)) or "token" in name.lower() or "key" in name.lower() else f" (got {got!r})"
    # A URL in what was given (TB_FEEDS, TB_DATABASE_URL, any *_URL) may carry a password or a token.
    return mask_urls(f"{name}: {error['msg']}{shown}")


def _unknown_symbols(symbols: Sequence[str], known: Collection[str]) -> list[str]:
    unknown = [s for s in symbols if s not in known]
    problems = []
    for symbol in dict.fromkeys(unknown):
        close = difflib.get_close_matches(symbol, sorted(known), n=3, cutoff=0.5)
        problems.append(f"{ENV_PREFIX}UNIVERSE: unknown symbol {symbol} (nearest known: {', '.join(close) or 'none'})")
    return problems


# The caller's check of the universe against the asset catalogue: given the settings (None when they
# are invalid) and the symbols, one problem line per unknown symbol (pipeline/universe.py).
UniverseCheck = Callable[[Optional["Settings"], Sequence[str]], list[str]]


def load_settings(known_symbols: Collection[str] | UniverseCheck | None = None, **overrides: Any) -> Settings:
    """Settings from the environment and `.env`; every problem reported at once, each naming its variable.

    `known_symbols` (the asset catalogue's symbols, or a check that reads the catalogue the settings name:
    settings import no other room) checks the universe too, also when other settings are wrong."""
    problems = _unknown_variables(os.environ)
    settings = None
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += [_describe(e) for e in exc.errors()]
    if known_symbols is not None:
        raw = settings.universe if settings is not None else overrides.get("universe", os.environ.get(ENV_PREFIX + "UNIVERSE"))
        symbols = _split_csv(raw) if raw is not None else []
        if isinstance(symbols, (list, tuple)):
            wanted = [str(s).upper() for s in symbols]
            problems += (known_symbols(settings, wanted) if callable(known_symbols)
                         else _unknown_symbols(wanted, known_symbols))
    if problems or settings is None:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return settings
