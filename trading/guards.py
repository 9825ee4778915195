"""Guards: named, pure checks over an account snapshot and one order intent, each with a reason code.

No clock, database or network here: the caller passes the snapshot and both clocks (wall time for
operational limits such as the throttle and cooldown, market time for prices and market hours).
An order that only reduces an open position passes the limits that exist to contain risk; the
trading state, throttle, market hours and stale-data checks still apply to it.

The exit rule. An exit (an order marked `exit`: /close, /flatten, a horizon exit) only ever takes
risk off, so it passes the trading-state guard in REDUCING and in HALTED alike and skips the risk
limits, the throttle (an exit's client order id is derived from the position it closes, so it cannot
repeat) and the stale-data check (it is a market order; its price is not traded on). It must still
only shrink the position it closes (`exit_only_reduces`), and an equity exit waits for the market
to open. Whether an exit is sent while HALTED is the desk's choice: an operator's /close and
/flatten are; the automatic horizon exit waits for a resume.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping, Sequence

from config import Settings
from trading import market_hours
from trading.state import TradingState


@dataclass(frozen=True)
class GuardLimits:
    max_risk_per_trade: float = 0.02
    max_position_pct: float = 0.20
    max_position_notional: float = 25_000.0
    max_open_positions: int = 5
    max_gross_exposure: float = 1.0
    daily_loss_limit: float = 0.03
    max_drawdown: float = 0.10
    symbol_cooldown: timedelta = timedelta(minutes=60)
    max_orders_per_minute: int = 5
    min_probability: float = 0.52
    max_data_age: timedelta = timedelta(minutes=120)

    @classmethod
    def from_settings(cls, s: Settings) -> GuardLimits:
        return cls(
            s.max_risk_per_trade, s.max_position_pct, s.max_position_notional, s.max_open_positions,
            s.max_gross_exposure, s.daily_loss_limit, s.max_drawdown, timedelta(minutes=s.symbol_cooldown_minutes),
            s.max_orders_per_minute, s.min_probability, timedelta(minutes=s.max_data_age_minutes),
        )


@dataclass(frozen=True)
class Holding:
    quantity: float  # signed: negative is short
    price: float  # mark

    @property
    def value(self) -> float:
        return abs(self.quantity) * self.price


@dataclass(frozen=True)
class AccountSnapshot:
    equity: float
    day_start_equity: float
    peak_equity: float
    holdings: Mapping[str, Holding] = field(default_factory=dict)

    @property
    def gross_exposure(self) -> float:
        return sum(h.value for h in self.holdings.values())

    @property
    def open_positions(self) -> int:
        return sum(1 for h in self.holdings.values() if h.quantity != 0)


@dataclass(frozen=True)
class Activity:
    """Recent order flow, for the throttle, the cooldown and duplicate suppression."""

    submit_times: Sequence[datetime] = ()  # wall times of recent submissions
    last_order_at: Mapping[str, datetime] = field(default_factory=dict)  # by symbol, wall time
    acted_signals: frozenset[tuple[str, str, datetime]] = frozenset()  # (symbol, side, signal as_of) already traded
    acted_keys: frozenset[tuple[str, str, str]] = frozenset()  # (symbol, side, signal fingerprint) already traded


@dataclass(frozen=True)
class OrderIntent:
    symbol: str
    side: str  # buy | sell
    quantity: float
    price: float  # the price the guards value the order at
    quote_time: datetime  # market time that price is from
    probability: float
    stop_distance: float | None  # fraction of price; None: the whole notional counts as risk
    signal_as_of: datetime | None
    signal_key: str | None = None  # the signal's fingerprint (storage/signal_keys.py), when it came from one
    exit: bool = False  # closes (part of) an open position: the exit rule above

    @property
    def signed_quantity(self) -> float:
        return self.quantity if self.side == "buy" else -self.quantity

    @property
    def notional(self) -> float:
        return self.quantity * self.price


@dataclass(frozen=True)
class GuardContext:
    state: TradingState
    account: AccountSnapshot
    activity: Activity
    market_now: datetime
    wall_now: datetime


@dataclass(frozen=True)
class Breach:
    guard: str
    code: str
    message: str
    halts: bool = False  # an account-level breach stops all trading


def reduces_position(intent: OrderIntent, account: AccountSnapshot) -> bool:
    held = account.holdings.get(intent.symbol, Holding(0.0, intent.price)).quantity
    after = held + intent.signed_quantity
    return held != 0 and abs(after) < abs(held) and after * held >= 0


def _after(intent: OrderIntent, account: AccountSnapshot) -> float:
    return account.holdings.get(intent.symbol, Holding(0.0, intent.price)).quantity + intent.signed_quantity


def trading_state(i: OrderIntent, c: GuardContext, _: GuardLimits) -> Breach | None:
    if i.exit and reduces_position(i, c.account):
        return None  # the exit rule: taking risk off is allowed in every state
    if c.state is TradingState.HALTED:
        return Breach("trading_state", "GUARD_HALTED", "Trading is halted: no orders until an operator resumes.")
    if c.state is TradingState.REDUCING and not reduces_position(i, c.account):
        return Breach("trading_state", "GUARD_REDUCING", "Trading is reducing: only orders that shrink an open position.")
    return None


def max_risk(i: OrderIntent, c: GuardContext, lim: GuardLimits) -> Breach | None:
    risk = i.notional * (i.stop_distance if i.stop_distance is not None else 1.0)
    budget = lim.max_risk_per_trade * c.account.equity
    if risk > budget:
        return Breach("max_risk_per_trade", "GUARD_MAX_RISK",
                      f"Risk to the stop is {risk:,.0f} USD, above the {lim.max_risk_per_trade:.1%} of equity allowed ({budget:,.0f} USD).")
    return None


def max_position(i: OrderIntent, c: GuardContext, lim: GuardLimits) -> Breach | None:
    value = abs(_after(i, c.account)) * i.price
    cap = min(lim.max_position_pct * c.account.equity, lim.max_position_notional)
    if value > cap:
        return Breach("max_position", "GUARD_MAX_POSITION",
                      f"{i.symbol} would be worth {value:,.0f} USD, above the cap of {cap:,.0f} USD "
                      f"({lim.max_position_pct:.0%} of equity, at most {lim.max_position_notional:,.0f} USD).")
    return None


def max_open_positions(i: OrderIntent, c: GuardContext, lim: GuardLimits) -> Breach | None:
    held = c.account.holdings.get(i.symbol)
    opens_new = held is None or held.quantity == 0
    if opens_new and c.account.open_positions >= lim.max_open_positions:
        return Breach("max_open_positions", "GUARD_MAX_OPEN_POSITIONS",
                      f"{c.account.open_positions} positions are open, the most allowed is {lim.max_open_positions}.")
    return None


def gross_exposure(i: OrderIntent, c: GuardContext, lim: GuardLimits) -> Breach | None:
    held = c.account.holdings.get(i.symbol, Holding(0.0, i.price))
    after = c.account.gross_exposure - held.value + abs(_after(i, c.account)) * i.price
    cap = lim.max_gross_exposure * c.account.equity
    if after > cap:
        return Breach("max_gross_exposure", "GUARD_GROSS_EXPOSURE",
                      f"Gross exposure would be {after:,.0f} USD, above {lim.max_gross_exposure:g}x equity ({cap:,.0f} USD).")
    return None


def daily_loss(_: OrderIntent | None, c: GuardContext, lim: GuardLimits) -> Breach | None:
    start = c.account.day_start_equity
    loss = (start - c.account.equity) / start if start > 0 else 0.0
    if loss >= lim.daily_loss_limit:
        return Breach("daily_loss_limit", "GUARD_DAILY_LOSS",
                      f"Down {loss:.1%} today, at or past the daily loss limit of {lim.daily_loss_limit:.1%}.", halts=True)
    return None


def drawdown(_: OrderIntent | None, c: GuardContext, lim: GuardLimits) -> Breach | None:
    peak = c.account.peak_equity
    fall = (peak - c.account.equity) / peak if peak > 0 else 0.0
    if fall >= lim.max_drawdown:
        return Breach("max_drawdown", "GUARD_DRAWDOWN",
                      f"Equity is {fall:.1%} below its peak, at or past the limit of {lim.max_drawdown:.1%}.", halts=True)
    return None


def exposure_limit(_: OrderIntent | None, c: GuardContext, lim: GuardLimits) -> Breach | None:
    """The account-level form of the exposure guard: prices alone can push exposure past the cap."""
    cap = lim.max_gross_exposure * c.account.equity
    if c.account.gross_exposure > cap:
        return Breach("max_gross_exposure", "GUARD_GROSS_EXPOSURE",
                      f"Gross exposure is {c.account.gross_exposure:,.0f} USD, above {lim.max_gross_exposure:g}x equity ({cap:,.0f} USD).",
                      halts=True)
    return None


def cooldown(i: OrderIntent, c: GuardContext, lim: GuardLimits) -> Breach | None:
    last = c.activity.last_order_at.get(i.symbol)
    if last is not None and c.wall_now - last < lim.symbol_cooldown:
        wait = lim.symbol_cooldown - (c.wall_now - last)
        return Breach("symbol_cooldown", "GUARD_COOLDOWN",
                      f"{i.symbol} was traded {_minutes(c.wall_now - last)} ago; the cooldown ends in {_minutes(wait)}.")
    return None


def throttle(_: OrderIntent, c: GuardContext, lim: GuardLimits) -> Breach | None:
    recent = sum(1 for t in c.activity.submit_times if timedelta(0) <= c.wall_now - t < timedelta(minutes=1))
    if recent >= lim.max_orders_per_minute:
        return Breach("submit_rate", "GUARD_RATE_LIMIT",
                      f"{recent} orders went out in the last minute; at most {lim.max_orders_per_minute} are allowed.")
    return None


def min_probability(i: OrderIntent, _: GuardContext, lim: GuardLimits) -> Breach | None:
    if i.probability < lim.min_probability:
        return Breach("min_probability", "GUARD_MIN_PROBABILITY",
                      f"The signal's chance of being right ({i.probability:.0%}) is below the minimum of {lim.min_probability:.0%}.")
    return None


def market_open(i: OrderIntent, c: GuardContext, _: GuardLimits) -> Breach | None:
    if market_hours.asset_class(i.symbol) == "crypto":
        return None
    if not market_hours.calendar_known(c.market_now, i.symbol):
        return Breach("market_hours", "GUARD_MARKET_CLOSED", f"The market calendar is not known for {c.market_now:%Y-%m-%d}.")
    if not market_hours.is_open(i.symbol, c.market_now):
        return Breach("market_hours", "GUARD_MARKET_CLOSED",
                      f"The US equity market is closed at {c.market_now:%Y-%m-%d %H:%M} UTC.")
    return None


def stale_data(i: OrderIntent, c: GuardContext, lim: GuardLimits) -> Breach | None:
    age = c.market_now - i.quote_time
    if age > lim.max_data_age:
        return Breach("stale_market_data", "GUARD_STALE_DATA",
                      f"The {i.symbol} price is {_minutes(age)} old; at most {_minutes(lim.max_data_age)} is allowed.")
    return None


def exit_only_reduces(i: OrderIntent, c: GuardContext, _: GuardLimits) -> Breach | None:
    if i.exit and not reduces_position(i, c.account):
        held = c.account.holdings.get(i.symbol, Holding(0.0, i.price)).quantity
        return Breach("exit_only_reduces", "GUARD_EXIT_WOULD_OPEN",
                      f"An exit must only shrink the {i.symbol} position (the broker holds {held:+.8g}); "
                      f"{i.side} {i.quantity:.8g} would open or enlarge one.")
    return None


def duplicate_signal(i: OrderIntent, c: GuardContext, _: GuardLimits) -> Breach | None:
    same_key = i.signal_key is not None and (i.symbol, i.side, i.signal_key) in c.activity.acted_keys
    if same_key or (i.signal_as_of is not None and (i.symbol, i.side, i.signal_as_of) in c.activity.acted_signals):
        return Breach("duplicate_signal", "GUARD_DUPLICATE_SIGNAL",
                      f"The same {i.symbol} {i.side} signal"
                      + (f" (as of {i.signal_as_of:%Y-%m-%d %H:%M} UTC)" if i.signal_as_of is not None else "")
                      + " was already traded.")
    return None


Guard = Callable[[OrderIntent, GuardContext, GuardLimits], "Breach | None"]
# In the order a breach is reported: the state first, then what protects the account, then flow.
RISK_GUARDS: tuple[Guard, ...] = (
    max_risk, max_position, max_open_positions, gross_exposure, daily_loss, drawdown, min_probability, duplicate_signal, cooldown,
)
ALWAYS_GUARDS: tuple[Guard, ...] = (trading_state, throttle, market_open, stale_data)
EXIT_GUARDS: tuple[Guard, ...] = (trading_state, exit_only_reduces, market_open)
ACCOUNT_GUARDS = (daily_loss, drawdown, exposure_limit)
GUARD_NAMES = ("trading_state", "max_risk_per_trade", "max_position", "max_open_positions", "max_gross_exposure",
               "daily_loss_limit", "max_drawdown", "symbol_cooldown", "submit_rate", "min_probability",
               "market_hours", "stale_market_data", "duplicate_signal", "exit_only_reduces")


def check_order(intent: OrderIntent, context: GuardContext, limits: GuardLimits) -> tuple[Breach, ...]:
    """Every guard that blocks this order (empty: it may go); the first is the one to report."""
    if intent.exit:
        guards = EXIT_GUARDS
    else:
        guards = ALWAYS_GUARDS if reduces_position(intent, context.account) else ALWAYS_GUARDS + RISK_GUARDS
    return tuple(b for g in guards if (b := g(intent, context, limits)) is not None)


def check_account(context: GuardContext, limits: GuardLimits) -> tuple[Breach, ...]:
    """Account-level breaches, checked after every fill and on every tick: each one halts trading."""
    return tuple(b for g in ACCOUNT_GUARDS if (b := g(None, context, limits)) is not None)


def _minutes(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    if minutes >= 120:
        return f"{minutes / 60:.1f} hours"
    return f"{max(0, round(minutes))} minutes"
