"""Divergence per timescale and combined, the adaptive trigger, negative confirmation, both sides reachable."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.divergence import (
    DEFAULT_TRIGGER, MIN_HISTORY, TRIGGER_CAP, TRIGGER_FLOOR, adaptive_trigger, measure_divergence,
)
from intelligence.signal import build_signal, negative_confirmation
from intelligence.types import Direction
from tests.conftest import utc
from tests.signal_fixtures import DAILY_SPANS, make_narrative, make_price

AS_OF = utc(2018, 3, 27)
HORIZON = timedelta(hours=24)


def test_without_enough_history_the_default_trigger_holds() -> None:
    trigger = adaptive_trigger([0.9] * (MIN_HISTORY - 1))
    assert trigger.threshold == DEFAULT_TRIGGER and not trigger.adaptive and trigger.history == MIN_HISTORY - 1


def test_the_trigger_follows_recent_dispersion() -> None:
    calm = adaptive_trigger([0.05, -0.08, 0.1, -0.04, 0.06, 0.07, -0.05, 0.09, -0.1, 0.03] * 3)
    loud = adaptive_trigger([0.6, -0.7, 0.5, -0.9, 0.8, 0.4, -0.6, 0.7, -0.5, 0.65] * 3)
    assert calm.adaptive and loud.adaptive
    assert TRIGGER_FLOOR <= calm.threshold < DEFAULT_TRIGGER < loud.threshold <= TRIGGER_CAP
    # More of the same history gives it more say.
    assert adaptive_trigger([0.6, -0.7, 0.5, -0.9, 0.8, 0.4, -0.6, 0.7, -0.5, 0.65] * 10).threshold > loud.threshold


@given(st.lists(st.floats(-2, 2), max_size=200))
def test_trigger_stays_in_bounds(history) -> None:
    trigger = adaptive_trigger(history)
    assert TRIGGER_FLOOR <= trigger.threshold <= TRIGGER_CAP
    assert trigger.adaptive == (len(history) >= MIN_HISTORY)


def test_divergence_per_timescale_and_which_ones_lead() -> None:
    divergence = measure_divergence(0.5, 0.1, {"short": 0.4, "mid": -0.2, "long": 0.1})
    assert divergence.combined == pytest.approx(0.4)
    assert divergence.per_timescale == pytest.approx({"short": 0.1, "mid": 0.7, "long": 0.4})
    assert divergence.diverging(1) == ("mid", "long") and divergence.diverging(-1) == ()
    assert divergence.fired


def test_buy_and_sell_are_both_reachable_on_real_stories() -> None:
    # Bullish rebound stories while the tape still slides; bearish tariff stories while it still rises.
    buy = build_signal("SPY", AS_OF, make_narrative(0.45), make_price(-0.2, -0.4, -0.1, AS_OF, spans=DAILY_SPANS), HORIZON)
    sell = build_signal("SPY", AS_OF, make_narrative(-0.45, ("Wall Street nosedives as investors flee on trade war fears",)),
                        make_price(0.2, 0.3, 0.1, AS_OF, spans=DAILY_SPANS), HORIZON)
    assert (buy.direction, buy.reason_codes[0]) == (Direction.BUY, "DIVERGENCE_BULLISH")
    assert (sell.direction, sell.reason_codes[0]) == (Direction.SELL, "DIVERGENCE_BEARISH")
    assert "DIVERGENT_MID" in buy.reason_codes and "DIVERGENT_MID" in sell.reason_codes
    assert buy.divergences["mid"] == pytest.approx(0.85)
    assert 0.5 < buy.probability < 1 and 0.5 < sell.probability < 1


def test_a_noisy_history_raises_the_bar_and_the_call_goes_away() -> None:
    narrative, price = make_narrative(0.3), make_price(0.0, 0.0, -0.1, AS_OF)
    assert build_signal("SPY", AS_OF, narrative, price, HORIZON).direction is Direction.BUY
    noisy = [0.6, -0.7, 0.5, -0.9, 0.8, 0.4, -0.6, 0.7, -0.5, 0.65] * 3
    raised = build_signal("SPY", AS_OF, narrative, price, HORIZON, history=noisy)
    assert raised.direction is Direction.HOLD and "ADAPTIVE_TRIGGER" in raised.reason_codes
    assert raised.trigger.threshold > DEFAULT_TRIGGER


def test_negative_confirmation_vetoes_a_story_the_tape_firmly_rejects() -> None:
    story = make_narrative(0.4)
    firm = make_price(-0.7, -0.8, -0.6, AS_OF)  # down on every timescale, strongly
    signal = build_signal("SPY", AS_OF, story, firm, HORIZON)
    assert negative_confirmation(0.4, firm)
    assert signal.direction is Direction.HOLD and signal.reason_codes[0] == "NEGATIVE_CONFIRMATION"
    # On heavy volume a less extreme but aligned tape is firm enough ...
    assert negative_confirmation(0.4, make_price(-0.4, -0.4, -0.4, AS_OF, volume_ratio=1.6))
    # ... but a tape that disagrees with itself is not a rejection: the divergence call stands.
    mixed = make_price(0.3, -0.9, -0.7, AS_OF)
    assert not negative_confirmation(0.4, mixed)
    assert build_signal("SPY", AS_OF, story, mixed, HORIZON).direction is Direction.BUY
