"""Every guard trips on its own condition, passes just inside it, and names itself with a reason code."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import Settings
from tests.conftest import utc
from trading import guards
from trading.guards import (
    GUARD_NAMES, AccountSnapshot, Activity, GuardContext, GuardLimits, Holding, OrderIntent, check_account, check_order,
)
from trading.market_hours import is_open
from trading.state import TradingState

NOW = utc(2025, 12, 13, 10, 14)
LIMITS = GuardLimits()
INTENT = OrderIntent(symbol="ETH", side="buy", quantity=1.0, price=3000.0, quote_time=NOW - timedelta(minutes=14),
                     probability=0.56, stop_distance=0.03, signal_as_of=NOW)
CONTEXT = GuardContext(TradingState.ACTIVE, AccountSnapshot(100_000.0, 100_000.0, 100_000.0, {}), Activity(), NOW, NOW)


def _codes(intent: OrderIntent = INTENT, context: GuardContext = CONTEXT, limits: GuardLimits = LIMITS) -> list[str]:
    return [b.code for b in check_order(intent, context, limits)]


def _account(equity: float = 100_000.0, day_start: float = 100_000.0, peak: float = 100_000.0, **holdings: Holding) -> AccountSnapshot:
    return AccountSnapshot(equity, day_start, peak, holdings)


def test_a_plain_order_passes_every_guard() -> None:
    assert _codes() == []


def test_defaults_match_the_settings() -> None:
    assert GuardLimits.from_settings(Settings()) == LIMITS


TRIPS = [
    ("GUARD_HALTED", {"context": replace(CONTEXT, state=TradingState.HALTED)}),
    ("GUARD_REDUCING", {"context": replace(CONTEXT, state=TradingState.REDUCING)}),
    # 20 ETH at 3000 with a 4% stop risks 2,400 USD > 2% of 100k.
    ("GUARD_MAX_RISK", {"intent": replace(INTENT, quantity=6.0, stop_distance=0.2)}),
    ("GUARD_MAX_RISK", {"intent": replace(INTENT, quantity=1.0, stop_distance=None)}),  # no stop: the notional is the risk
    ("GUARD_MAX_POSITION", {"intent": replace(INTENT, quantity=7.0, stop_distance=0.001)}),  # 21k > 20% of equity
    ("GUARD_MAX_POSITION", {"intent": replace(INTENT, quantity=7.0, stop_distance=0.001),
                            "limits": replace(LIMITS, max_position_pct=0.5, max_position_notional=20_000)}),
    ("GUARD_MAX_OPEN_POSITIONS", {"context": replace(CONTEXT, account=_account(
        **{s: Holding(1.0, 100.0) for s in ("BTC", "SOL", "XRP", "ADA", "LINK")}))}),
    ("GUARD_GROSS_EXPOSURE", {"context": replace(CONTEXT, account=_account(
        BTC=Holding(1.0, 49_000.0), SOL=Holding(100.0, 490.0))), "limits": replace(LIMITS, max_gross_exposure=1.0)}),
    ("GUARD_DAILY_LOSS", {"context": replace(CONTEXT, account=_account(equity=96_999.0, peak=100_000.0))}),
    ("GUARD_DRAWDOWN", {"context": replace(CONTEXT, account=_account(equity=89_000.0, day_start=89_500.0, peak=100_000.0))}),
    ("GUARD_COOLDOWN", {"context": replace(CONTEXT, activity=Activity(last_order_at={"ETH": NOW - timedelta(minutes=59)}))}),
    ("GUARD_RATE_LIMIT", {"context": replace(CONTEXT, activity=Activity(submit_times=[NOW - timedelta(seconds=s) for s in range(5)]))}),
    ("GUARD_MIN_PROBABILITY", {"intent": replace(INTENT, probability=0.519)}),
    ("GUARD_MARKET_CLOSED", {"intent": replace(INTENT, symbol="SPY")}),  # a Saturday
    ("GUARD_STALE_DATA", {"intent": replace(INTENT, quote_time=NOW - timedelta(minutes=121))}),
    ("GUARD_DUPLICATE_SIGNAL", {"context": replace(CONTEXT, activity=Activity(acted_signals=frozenset({("ETH", "buy", NOW)})))}),
    # The same story traded before, in a later cycle (a live cycle's as-of is always new): the fingerprint says so.
    ("GUARD_DUPLICATE_SIGNAL", {"intent": replace(INTENT, signal_as_of=NOW + timedelta(hours=1), signal_key="f00d"),
                                "context": replace(CONTEXT, activity=Activity(acted_keys=frozenset({("ETH", "buy", "f00d")})))}),
    # An exit with nothing to close would open a short.
    ("GUARD_EXIT_WOULD_OPEN", {"intent": replace(INTENT, side="sell", exit=True)}),
]


@pytest.mark.parametrize(("code", "change"), TRIPS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(TRIPS)])
def test_each_guard_trips(code: str, change: dict) -> None:
    codes = _codes(**change)
    assert codes and codes[0] == code


def test_every_named_guard_has_a_tripping_case() -> None:
    names = set()
    for _, change in TRIPS:
        names |= {b.guard for b in check_order(change.get("intent", INTENT), change.get("context", CONTEXT), change.get("limits", LIMITS))}
    assert names == set(GUARD_NAMES)


@pytest.mark.parametrize(("intent", "context"), [
    (replace(INTENT, quantity=6.0, stop_distance=0.11), CONTEXT),  # risk 1,980 < 2,000
    (INTENT, replace(CONTEXT, activity=Activity(last_order_at={"ETH": NOW - timedelta(minutes=60)}))),
    (INTENT, replace(CONTEXT, activity=Activity(submit_times=[NOW - timedelta(seconds=s) for s in range(4)] + [NOW - timedelta(seconds=61)]))),
    (replace(INTENT, quote_time=NOW - timedelta(minutes=120)), CONTEXT),
    (replace(INTENT, signal_as_of=NOW + timedelta(hours=1)), replace(CONTEXT, activity=Activity(acted_signals=frozenset({("ETH", "buy", NOW)})))),
    (replace(INTENT, symbol="SPY", quote_time=utc(2025, 12, 15, 15)), replace(CONTEXT, market_now=utc(2025, 12, 15, 15))),  # Monday 10:00 NY
])
def test_just_inside_the_limits_passes(intent: OrderIntent, context: GuardContext) -> None:
    assert _codes(intent, context) == []


def test_reducing_an_open_position_passes_the_risk_guards_but_not_the_state_halt() -> None:
    breached = _account(equity=85_000.0, day_start=95_000.0, peak=100_000.0, ETH=Holding(5.0, 3000.0))
    sell = replace(INTENT, side="sell", quantity=2.0, probability=0.3, stop_distance=None)
    reducing = replace(CONTEXT, state=TradingState.REDUCING, account=breached)
    assert _codes(sell, reducing) == []
    assert _codes(replace(sell, quantity=6.0), reducing)[0] == "GUARD_REDUCING"  # crossing zero opens a short
    assert _codes(sell, replace(reducing, state=TradingState.HALTED)) == ["GUARD_HALTED"]


def test_an_exit_passes_every_trading_state_and_skips_the_risk_limits_and_the_throttle() -> None:
    breached = _account(equity=85_000.0, day_start=95_000.0, peak=100_000.0, ETH=Holding(5.0, 3000.0), SPY=Holding(-10.0, 600.0))
    close = replace(INTENT, side="sell", quantity=5.0, probability=0.0, stop_distance=None, signal_as_of=None,
                    quote_time=NOW - timedelta(days=3), exit=True)
    busy = Activity(submit_times=[NOW] * 10, last_order_at={"ETH": NOW})
    for state in TradingState:
        context = replace(CONTEXT, state=state, account=breached, activity=busy)
        assert _codes(close, context) == [], state
        assert _codes(replace(close, quantity=6.0), context)[-1] == "GUARD_EXIT_WOULD_OPEN"  # flips to short
        assert _codes(replace(close, side="buy"), context) == (
            ["GUARD_EXIT_WOULD_OPEN"] if state is TradingState.ACTIVE else
            ["GUARD_HALTED" if state is TradingState.HALTED else "GUARD_REDUCING", "GUARD_EXIT_WOULD_OPEN"])
    spy = replace(close, symbol="SPY", side="buy", quantity=10.0)
    assert _codes(spy, replace(CONTEXT, account=breached)) == ["GUARD_MARKET_CLOSED"]  # a Saturday: it waits


def test_account_breaches_halt() -> None:
    context = replace(CONTEXT, account=_account(equity=96_000.0, day_start=100_000.0, peak=108_000.0, BTC=Holding(1.0, 97_000.0)))
    breaches = check_account(context, replace(LIMITS, max_gross_exposure=1.0))
    assert [b.code for b in breaches] == ["GUARD_DAILY_LOSS", "GUARD_DRAWDOWN", "GUARD_GROSS_EXPOSURE"]
    assert all(b.halts for b in breaches)
    assert check_account(CONTEXT, LIMITS) == ()


def test_messages_are_plain_sentences_with_the_numbers() -> None:
    [breach, *_] = check_order(replace(INTENT, probability=0.51), CONTEXT, LIMITS)
    assert breach.guard == "min_probability" and "51%" in breach.message and "52%" in breach.message


def test_market_hours() -> None:
    assert is_open("BTC", utc(2025, 12, 13, 3))  # crypto on a Saturday night
    assert not is_open("SPY", utc(2025, 12, 13, 15))  # Saturday
    assert is_open("SPY", utc(2025, 12, 15, 14, 30))  # Monday 09:30 New York
    assert not is_open("SPY", utc(2025, 12, 15, 14, 29))
    assert not is_open("SPY", utc(2025, 12, 15, 21))  # 16:00 New York
    assert not is_open("SPY", utc(2025, 12, 25, 15))  # Christmas
    assert is_open("SPY", utc(2026, 7, 10, 15))  # summer time: 11:00 New York
    # The calendar library knows the years ahead (tests/test_market_hours.py); past what it is read for, it refuses.
    assert guards.market_open(replace(INTENT, symbol="SPY"), replace(CONTEXT, market_now=utc(2028, 3, 1, 15)), LIMITS) is None
    assert guards.market_open(replace(INTENT, symbol="SPY"), replace(CONTEXT, market_now=utc(2041, 3, 1, 15)), LIMITS) is not None


@given(equity=st.floats(1_000, 1e7), qty=st.floats(0.001, 1_000), price=st.floats(0.01, 100_000), stop=st.floats(0.001, 0.5))
def test_an_order_that_passes_respects_every_size_limit(equity: float, qty: float, price: float, stop: float) -> None:
    intent = replace(INTENT, quantity=qty, price=price, stop_distance=stop)
    context = replace(CONTEXT, account=_account(equity=equity, day_start=equity, peak=equity))
    if not check_order(intent, context, LIMITS):
        assert qty * price * stop <= LIMITS.max_risk_per_trade * equity + 1e-6
        assert qty * price <= min(LIMITS.max_position_pct * equity, LIMITS.max_position_notional) + 1e-6
        assert qty * price <= LIMITS.max_gross_exposure * equity + 1e-6
