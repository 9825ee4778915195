""".env.example, generated from the Settings class so that it cannot drift from it.

Each setting is documented by the `# why` comment written above its field in config.py (a few
older fields have theirs here, in NOTES); the default and the allowed values come from the field
itself. `python tracer_bullet.py env-example` prints it; tests/test_env_example.py checks that the
file in the repository is exactly what it prints, and that every field is in it with a description.
"""
from __future__ import annotations

import ast
import json
import re
import typing
from datetime import time
from enum import Enum
from pathlib import Path
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import SecretStr
from pydantic.fields import FieldInfo

import config
from config import ENV_PREFIX, Settings

CONFIG_SOURCE = Path(config.__file__)
SECTION = re.compile(r"^#\s*---\s*(.*?)\s*---\s*$")
HEADER = """\
# Tracer Bullet settings: every variable the program reads, with its default and what it allows.
# Generated from config.py by `python tracer_bullet.py env-example > .env.example`; edit config.py, not this.
# Copy to .env (read from the working directory) and uncomment what you change; unset means the default.
"""
# Fields defined before the `# why` comments became the rule (their meaning is in DESIGN.md section 3),
# and a few whose comment speaks to the programmer rather than the operator.
NOTES = {
    "database_url": "Any SQLAlchemy URL; SQLite by default, PostgreSQL (postgresql+psycopg://user:pass@host/db) "
                    "for a store shared by more than one machine. The schema is migrated when a command opens it.",
    "artifacts_dir": "Where each cycle writes the numbers behind its digest (run-<id>.json).",
    "telegram_token": "Telegram bot token from @BotFather; unset: no Telegram.",
    "telegram_base_url": "Bot API server root (unset: Telegram's); tests point it at a loopback fake.",
    "telegram_operators": "Comma-separated Telegram user ids allowed to control trading.",
    "discord_webhook_url": "Discord webhook for backup alerts; unset: no Discord.",
    "discord_token": "Discord bot token for the optional read-only Discord bot.",
    "alpaca_key": "Alpaca API key id; unset: embedded data and the simulated broker.",
    "alpaca_secret": "Alpaca API secret key.",
    "alpaca_trading_url": "Alpaca trading API override (unset: Alpaca's paper or live endpoint).",
    "alpaca_data_url": "Alpaca market-data API override (unset: Alpaca's).",
    "live_trading": "Live trading (real money) needs this AND TB_LIVE_TRADING_CONFIRM; paper otherwise.",
    "live_trading_confirm": f"Must be exactly: {config.LIVE_TRADING_PHRASE}",
    "anthropic_api_key": "Claude API key (also read as TB_ANTHROPIC_API_KEY); unset: no LLM.",
    "anthropic_base_url": "Anthropic API override (unset: Anthropic's); tests point it at a loopback fake.",
    "sentiment_backend": "auto: FinBERT when its weights load, else the embedded model.",
    "finbert_model": "Hugging Face model id (or local path) of the FinBERT weights.",
    "universe": "Comma-separated catalogue symbols: the starting watchlist (/watch, /unwatch change it); default: "
                "the embedded snapshot's nine coins and two stocks.",
    "feeds": "JSON object of feed name to RSS/Atom URL, read over HTTP when TB_NEWS_SOURCES has rss.",
    "feeds_dir": "Directory of RSS/Atom files to read instead of the embedded snapshot.",
    "bars_dir": "Directory of OHLCV CSV files (SYMBOLUSDT_1h.csv) instead of the embedded bars.",
    "horizon_hours": "How far ahead each signal calls the direction; outcomes are judged over it.",
    "proposal_ttl_minutes": "A proposal nobody answers within this expires.",
    "sim_equity": "Starting cash of the simulated broker.",
    "risk_per_trade": "Share of equity a suggested position risks at its stop (the sizing budget).",
    "weekly_eval_day": "Day of the week the weekly evaluation goes out.",
    "weekly_eval_time": "Time of day (HH:MM, in TB_WEEKLY_EVAL_TIMEZONE) it goes out.",
    "weekly_eval_timezone": "IANA time zone of TB_WEEKLY_EVAL_TIME.",
    "eval_runs_dir": "Where evaluation runs (metrics.json, calibration.csv, reliability.png) are written.",
    "log_level": "Least severe log level written to stderr.",
    # Second fields of a pair whose comment sits above the first one.
    "digest_timezone": "IANA time zone of TB_DIGEST_TIME (the default for /subscribe).",
    "telegram_poll_seconds": "Length of Telegram's long poll for updates (getUpdates timeout).",
    "outbox_backoff_max_seconds": "The longest wait between two delivery attempts of one message.",
    "outbox_poll_seconds": "How often the outbox worker looks for due messages when nothing wakes it.",
    "market_data": "Where bars come from: the embedded snapshot, or Alpaca's market-data API (needs the keys).",
    "provider_read_timeout_seconds": "The longest wait for a provider's answer once connected.",
    "breaker_cooldown_seconds": "How long an open circuit leaves its provider alone before one trial call.",
    "alpaca_bar_lookback_days": "How far back each cycle asks Alpaca for bars.",
    "narrative_window_hours": "Headlines older than this no longer count towards an asset's narrative.",
    "max_position_notional": "The most one symbol may hold, in USD (with TB_MAX_POSITION_PCT of equity).",
    "max_open_positions": "The most symbols held at once.",
    "max_drawdown": "Fall from the equity peak that halts trading (with TB_DAILY_LOSS_LIMIT for the day).",
    "symbol_cooldown_minutes": "After an order in a symbol, no new entry in it for this long.",
    "max_orders_per_minute": "More orders than this within a minute are refused (a runaway loop stops here).",
    "sim_slippage_bps": "Simulated broker: price moved against each fill, in basis points.",
    "sim_fee_bps": "Simulated broker: fee per fill, in basis points of its value.",
    "reconcile_minutes": "How often serve compares the broker's orders and positions with the store's.",
}


def env_name(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    return ENV_PREFIX + name.upper()


def field_comments(source: str) -> dict[str, tuple[str | None, list[str]]]:
    """For each field of class Settings: the section header and the comment lines right above it."""
    lines = source.splitlines()
    tree = ast.parse(source)
    settings = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    found: dict[str, tuple[str | None, list[str]]] = {}
    for node in settings.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        comments: list[str] = []
        section = None
        index = node.lineno - 2
        while index >= 0 and lines[index].strip().startswith("#"):
            text = lines[index].strip()
            match = SECTION.match(text)
            if match:
                section = match.group(1)
            else:
                comments.insert(0, text.lstrip("#").strip())
            index -= 1
        found[node.target.id] = (section, comments)
    return found


def render_default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _literals(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    found: list[str] = []
    for arg in typing.get_args(annotation):
        found += _literals(arg)
    return found


def allowed(field: FieldInfo) -> str | None:
    choices = _literals(field.annotation)
    if choices:
        return "one of " + ", ".join(dict.fromkeys(choices))
    bounds = []
    for item in field.metadata:
        for kind, word in ((Ge, ">="), (Gt, ">"), (Le, "<="), (Lt, "<")):
            if isinstance(item, kind):
                bounds.append(f"{word} {_bound(item)}")
        if isinstance(item, MinLen):
            bounds.append(f"at least {item.min_length} character(s)")
    return ", ".join(bounds) or None


def _bound(item: Any) -> Any:
    for attribute in ("ge", "gt", "le", "lt"):
        if hasattr(item, attribute):
            return getattr(item, attribute)
    return item


def render_env_example() -> str:
    comments = field_comments(CONFIG_SOURCE.read_text(encoding="utf-8"))
    out = [HEADER]
    for name, field in Settings.model_fields.items():
        section, lines = comments.get(name, (None, []))
        if section:
            out.append(f"\n# === {section} ===\n")
        description = [NOTES[name]] if name in NOTES else lines
        block = [f"# {line}" if line else "#" for line in description]
        limits = allowed(field)
        if limits:
            block.append(f"# Allowed: {limits}.")
        default = field.get_default(call_default_factory=True)
        block.append(f"# {env_name(name, field)}={render_default(default)}")
        out.append("\n".join(block) + "\n")
    return "\n".join(out)


def undocumented() -> list[str]:
    """Fields with neither a comment above them nor a note here: the test fails on any."""
    comments = field_comments(CONFIG_SOURCE.read_text(encoding="utf-8"))
    return [name for name in Settings.model_fields if not comments.get(name, (None, []))[1] and not NOTES.get(name)]
