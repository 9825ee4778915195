"""One cycle, each asset in its own rhythm: coins on hourly bars around the clock, stocks on daily bars by session."""
from __future__ import annotations

from datetime import timedelta

from intelligence.cycle import CycleParams, interval_of, mentions_by_asset, run_cycle
from intelligence.types import Polarity
from providers.bars import EmbeddedMarketData
from providers.catalogue import load_catalogue
from tests.conftest import utc

AS_OF = utc(2025, 12, 13, 10, 14)  # a Saturday: the stocks' last bar is Friday's session
CATALOGUE = load_catalogue()
PARAMS = CycleParams(half_life=timedelta(hours=24), window=timedelta(hours=72), horizon=timedelta(hours=4))


def test_a_cycle_scores_hourly_coins_and_daily_stocks_side_by_side(embedded_headlines) -> None:
    market = EmbeddedMarketData()
    assets = [CATALOGUE[s] for s in ("BTC", "ETH", "COIN", "MSTR")]
    series = {a.symbol: market.bars_until(a.symbol, AS_OF) for a in assets}
    bars = {s: list(v.bars) for s, v in series.items()}
    intervals = {s: v.interval for s, v in series.items()}
    assert intervals == {"BTC": timedelta(hours=1), "ETH": timedelta(hours=1), "COIN": timedelta(days=1),
                         "MSTR": timedelta(days=1)}
    mentions = mentions_by_asset(assets, [h for h in embedded_headlines if h.published <= AS_OF])
    polarity = {m.headline.content_hash: Polarity(0.6, 0.1, 0.3) for found in mentions.values() for m in found}
    outcome = run_cycle(AS_OF, assets, mentions, polarity, bars, intervals, PARAMS)
    signals = {s.symbol: s for s in outcome.signals}
    assert set(signals) == {"BTC", "ETH", "COIN", "MSTR"} and outcome.problems == ()
    # Each tape on its own timescales: hours for the coins, sessions (a week, four weeks) for the stocks.
    assert signals["BTC"].price.horizons["short"] == timedelta(hours=4)
    assert signals["COIN"].price.horizons == {"short": timedelta(days=1), "mid": timedelta(days=7), "long": timedelta(days=28)}
    assert signals["COIN"].price.last_bar_end == utc(2025, 12, 13)  # Friday's session, known by Saturday
    # A horizon is never shorter than one of the asset's bars: an outcome cannot be told inside a bar.
    assert signals["BTC"].horizon == timedelta(hours=4) and signals["MSTR"].horizon == timedelta(days=1)
    assert mentions["COIN"] and mentions["MSTR"]  # the crypto news talks about both


def test_one_interval_for_all_still_works_and_a_missing_one_defaults_to_hourly() -> None:
    assert interval_of(timedelta(days=1), "BTC") == timedelta(days=1)
    assert interval_of({"COIN": timedelta(days=1)}, "BTC") == timedelta(hours=1)


def test_an_asset_without_bars_is_a_problem_of_the_cycle_not_its_end() -> None:
    market = EmbeddedMarketData()
    btc = market.bars_until("BTC", AS_OF)
    assets = [CATALOGUE["BTC"], CATALOGUE["AAPL"]]
    outcome = run_cycle(AS_OF, assets, {}, {}, {"BTC": list(btc.bars)}, {"BTC": btc.interval}, PARAMS)
    assert [s.symbol for s in outcome.signals] == ["BTC"]
    assert [p.where for p in outcome.problems] == ["AAPL bars"]
