"""Size suggestions: risk units from confidence with a floor and a cap, normalised by volatility."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.signal import build_signal
from intelligence.sizing import (
    FULL_EDGE, MAX_POSITION_FRACTION, MAX_STOP, MIN_EDGE, MIN_STOP, MIN_UNITS, risk_units, stop_distance, suggest_size,
)
from tests.conftest import utc
from tests.signal_fixtures import make_narrative, make_price

AS_OF = utc(2018, 3, 27)


def _signal(probability: float, volatility: float = 0.01):
    signal = build_signal("SPY", AS_OF, make_narrative(0.45), make_price(-0.2, -0.4, -0.1, AS_OF), timedelta(hours=24))
    return replace(signal, probability=probability, price=replace(signal.price, volatility=volatility))


def test_units_have_a_floor_a_cap_and_nothing_below_the_minimum_edge() -> None:
    assert risk_units(None) == 0.0
    assert risk_units(0.5 + MIN_EDGE / 2) == 0.0
    assert risk_units(0.5 + MIN_EDGE) == MIN_UNITS  # the smallest call still gets a size worth having
    assert risk_units(0.5 + FULL_EDGE / 2) == pytest.approx(0.5)
    assert risk_units(0.95) == 1.0


def test_a_calmer_asset_gets_more_notional_for_the_same_risk() -> None:
    calm = suggest_size(_signal(0.6, volatility=0.005), 100_000, 0.001, 1)
    wild = suggest_size(_signal(0.6, volatility=0.02), 100_000, 0.001, 1)
    assert calm.risk_units == wild.risk_units > 0
    assert calm.notional == pytest.approx(4 * wild.notional)
    assert calm.stop_distance == pytest.approx(2 * 0.005)


def test_stops_and_positions_are_bounded() -> None:
    assert stop_distance(0.0, 24) == MIN_STOP and stop_distance(1.0, 24) == MAX_STOP
    frozen = suggest_size(_signal(0.65, volatility=1e-9), 100_000, 0.01, 24)
    assert frozen.notional == pytest.approx(100_000 * MAX_POSITION_FRACTION)
    assert suggest_size(_signal(0.505), 100_000, 0.01, 24).quantity == 0.0


@given(st.floats(0.02, 0.98), st.floats(1e-6, 0.5), st.floats(1, 100))
def test_size_invariants(probability, volatility, bars) -> None:
    size = suggest_size(_signal(probability, volatility), 100_000, 0.01, bars)
    assert 0 <= size.risk_units <= 1
    assert 0 <= size.notional <= 100_000 * MAX_POSITION_FRACTION + 1e-6
    assert (size.notional > 0) == (probability - 0.5 >= MIN_EDGE)
