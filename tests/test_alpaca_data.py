"""alpaca-py's data clients against a loopback fake of Alpaca's market-data API: bars, news, failures."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from providers.alpaca_data import AlpacaAccess, AlpacaDataError, AlpacaMarketData, AlpacaNews
from providers.bars import EmbeddedMarketData, read_bars
from providers.circuit import BreakerState, CircuitBreaker
from tests.conftest import utc
from tests.fake_alpaca_data import CRYPTO_BARS, KEY, NEWS, SECRET, STOCK_BARS, Article, DataFault, FakeAlpacaData

DATA = Path(__file__).resolve().parent / "data"
AS_OF = utc(2025, 12, 13, 11, 30)  # mid-bar: the 11:00 bar is still forming and must not be used
EMBEDDED = EmbeddedMarketData()
BTC = list(EMBEDDED.bars_until("BTC", utc(2025, 12, 31)).bars)
AAPL = list(read_bars(DATA / "bars" / "AAPL_1d.csv", "AAPL").bars)


def is_crypto(symbol: str) -> bool:
    return symbol in ("BTC", "ETH")


@pytest.fixture
def fake() -> Iterator[FakeAlpacaData]:
    server = FakeAlpacaData(bars={"BTC/USD": BTC, "AAPL": AAPL}, page_size=100).start()
    yield server
    server.stop()


def _access(fake: FakeAlpacaData, read_timeout: float = 2.0) -> AlpacaAccess:
    return AlpacaAccess(KEY, SECRET, fake.url, connect_timeout=1.0, read_timeout=read_timeout)


def _breaker(name: str = "alpaca:bars", failures: int = 3) -> CircuitBreaker:
    return CircuitBreaker(name, failures, timedelta(minutes=5), lambda: AS_OF)


def _market(fake: FakeAlpacaData, timeframe: str = "1Hour", failures: int = 3, **access) -> AlpacaMarketData:
    return AlpacaMarketData(_access(fake, **access), timeframe, timedelta(days=10), "iex", is_crypto,
                            _breaker(failures=failures))


def test_crypto_bars_are_paged_and_served_point_in_time(fake: FakeAlpacaData) -> None:
    series = _market(fake).bars_until("BTC", AS_OF)
    expected = EMBEDDED.bars_until("BTC", AS_OF).bars
    assert series.interval == timedelta(hours=1) and series.problems == ()
    assert series.bars == tuple(b for b in expected if b.start >= AS_OF - timedelta(days=10))  # straight from the tape
    assert series.bars[-1].start == utc(2025, 12, 13, 10)  # the 11:00 bar closes after as-of
    pages = fake.calls(CRYPTO_BARS)
    assert len(pages) == 3 and [p.get("page_token") for p in pages] == [None, "100", "200"]
    assert pages[0]["symbols"] == "BTC/USD" and pages[0]["timeframe"] == "1Hour"


def test_one_cycle_asks_once_for_the_same_window(fake: FakeAlpacaData) -> None:
    market = _market(fake)
    market.bars_until("BTC", AS_OF)
    market.bars_until("BTC", AS_OF)
    assert len(fake.calls(CRYPTO_BARS)) == 3  # one paged request, not two


def test_stock_bars_ask_for_iex_raw_prices(fake: FakeAlpacaData) -> None:
    as_of = utc(2025, 12, 10)
    series = AlpacaMarketData(_access(fake), "1Day", timedelta(days=40), "iex", is_crypto, _breaker()).bars_until("AAPL", as_of)
    assert series.interval == timedelta(days=1)
    assert series.bars == tuple(b for b in AAPL if b.start + timedelta(days=1) <= as_of and b.start >= as_of - timedelta(days=40))
    assert series.problems == ()  # weekends on a weekday series are not gaps
    [query] = fake.calls(STOCK_BARS)
    assert query["feed"] == "iex" and query["adjustment"] == "raw" and query["symbols"] == "AAPL"


def test_a_gap_in_alpacas_bars_is_marked(fake: FakeAlpacaData) -> None:
    fake.bars["BTC/USD"] = [b for b in BTC if not utc(2025, 12, 12, 3) <= b.start < utc(2025, 12, 12, 6)]
    series = _market(fake).bars_until("BTC", AS_OF)
    assert [p.message for p in series.problems] == [
        "BTC bars have a gap of 3 hours after 2025-12-12 03:00 UTC (next bar starts 2025-12-12 06:00 UTC)"]


@pytest.mark.parametrize("status, said", [(500, "HTTP 500: internal server error"), (429, "HTTP 429: too many requests")])
def test_server_errors_are_clear_and_not_retried_in_a_sleep(fake: FakeAlpacaData, status: int, said: str) -> None:
    fake.faults.append(DataFault(CRYPTO_BARS, status=status))
    with pytest.raises(AlpacaDataError) as err:
        _market(fake).bars_until("BTC", AS_OF)
    assert str(err.value) == f"BTC bars from Alpaca: Alpaca answered {said}"
    assert len(fake.calls(CRYPTO_BARS)) == 1


def test_a_malformed_bar_is_a_failure_of_the_provider(fake: FakeAlpacaData) -> None:
    bar = {"t": "2025-12-13T09:00:00Z", "o": 1.0, "h": 1.0, "l": 1.0, "v": 1.0, "n": 1, "vw": 1.0}  # no close
    fake.faults.append(DataFault(CRYPTO_BARS, status=200, body={"bars": {"BTC/USD": [bar]}, "next_page_token": None}))
    market = _market(fake)
    with pytest.raises(AlpacaDataError, match=r"BTC bars from Alpaca: malformed answer from Alpaca \(ValidationError"):
        market.bars_until("BTC", AS_OF)
    assert market.breaker.snapshot().failures == 1


def test_an_impossible_bar_is_refused(fake: FakeAlpacaData) -> None:
    bar = {"t": "2025-12-13T09:00:00Z", "o": 5.0, "h": 4.0, "l": 3.0, "c": 3.5, "v": 1.0, "n": 1, "vw": 1.0}
    fake.faults.append(DataFault(CRYPTO_BARS, status=200, body={"bars": {"BTC/USD": [bar]}, "next_page_token": None}))
    with pytest.raises(AlpacaDataError, match="BTC bar at 2025-12-13 09:00 UTC from Alpaca: open or close outside"):
        _market(fake).bars_until("BTC", AS_OF)


def test_no_bars_is_said_plainly(fake: FakeAlpacaData) -> None:
    with pytest.raises(AlpacaDataError, match="Alpaca has no 1Hour bars for ETH closed between"):
        _market(fake).bars_until("ETH", AS_OF)


def test_a_slow_answer_times_out(fake: FakeAlpacaData) -> None:
    fake.faults.append(DataFault(CRYPTO_BARS, status=200, delay=1.0))
    with pytest.raises(AlpacaDataError, match=r"no answer from Alpaca in time \(1 s to connect, 0.3 s to read\)"):
        _market(fake, read_timeout=0.3).bars_until("BTC", AS_OF)


def test_the_breaker_keeps_requests_away_once_open(fake: FakeAlpacaData) -> None:
    fake.faults.append(DataFault(CRYPTO_BARS, status=503, times=10))
    market = _market(fake, failures=2)
    for day in (10, 11, 12):
        with pytest.raises(AlpacaDataError):
            market.bars_until("BTC", utc(2025, 12, day))
    assert market.breaker.state is BreakerState.OPEN
    assert len(fake.calls(CRYPTO_BARS)) == 2
    with pytest.raises(AlpacaDataError, match="BTC bars not fetched: Alpaca data circuit open after 2 failure"):
        market.bars_until("BTC", utc(2025, 12, 9))


def test_news_is_paged_newest_first_and_becomes_headlines(fake: FakeAlpacaData) -> None:
    fake.news = [Article(f"Bitcoin story number {i}", utc(2025, 12, 13, 10) - timedelta(minutes=i), summary="<b>Sum</b>")
                 for i in range(70)]
    fake.news.append(Article("Ether treasury firm adds to holdings", utc(2025, 12, 12, 9), source="benzinga",
                             symbols=("ETHUSD",), url="https://example.com/eth"))
    fake.news.append(Article("Unrelated stock story", utc(2025, 12, 12, 9), symbols=("MSFT",)))
    news = AlpacaNews(_access(fake), ["BTC", "ETH"], is_crypto, _breaker("alpaca:news"))
    batch = news.fetch(utc(2025, 12, 10, 11), AS_OF)
    assert batch.problems == () and len(batch.headlines) == 71
    eth = next(h for h in batch.headlines if h.title.startswith("Ether"))
    assert eth.source == "Benzinga" and eth.url == "https://example.com/eth" and eth.published == utc(2025, 12, 12, 9)
    queries = fake.calls(NEWS)
    assert queries[0]["symbols"] == "BTCUSD,ETHUSD" and len(queries) == 2  # pages of 50 (alpaca-py's page size)


def test_news_tags_become_the_headlines_symbols_and_name_the_assets(fake: FakeAlpacaData) -> None:
    from intelligence.cycle import mentions_by_asset
    from providers.catalogue import load_catalogue

    fake.news = [Article("Chip stocks slide as iPhone maker trims orders", utc(2025, 12, 12, 9), symbols=("AAPL", "TSM")),
                 Article("Miners extend losses", utc(2025, 12, 12, 8), symbols=("BTCUSD", "MARA"))]
    watched = ["BTC", "AAPL"]  # a callable: the watchlist as it is at each fetch
    news = AlpacaNews(_access(fake), lambda: list(watched), is_crypto, _breaker("alpaca:news"))
    batch = news.fetch(utc(2025, 12, 10), AS_OF)
    assert fake.calls(NEWS)[-1]["symbols"] == "BTCUSD,AAPL"
    assert {h.title: h.symbols for h in batch.headlines} == {
        "Chip stocks slide as iPhone maker trims orders": ("AAPL", "TSM"), "Miners extend losses": ("BTC", "MARA")}
    catalogue = load_catalogue()
    found = mentions_by_asset([catalogue["AAPL"], catalogue["BTC"]], batch.headlines)
    assert [m.headline.title for m in found["AAPL"]] == ["Chip stocks slide as iPhone maker trims orders"]
    assert all(m.named for ms in found.values() for m in ms) and len(found["BTC"]) == 1
    watched.append("NVDA")
    news.fetch(utc(2025, 12, 10), AS_OF)
    assert fake.calls(NEWS)[-1]["symbols"] == "BTCUSD,AAPL,NVDA"


def test_news_outage_is_a_problem(fake: FakeAlpacaData) -> None:
    fake.faults.append(DataFault(NEWS, status=500))
    batch = AlpacaNews(_access(fake), ["BTC"], is_crypto, _breaker("alpaca:news")).fetch(utc(2025, 12, 10), AS_OF)
    assert batch.headlines == ()
    assert [str(p) for p in batch.problems] == ["Alpaca news: Alpaca answered HTTP 500: internal server error"]


def test_keys_travel_in_headers_only_and_never_into_messages_or_logs(fake: FakeAlpacaData, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    fake.faults.append(DataFault(CRYPTO_BARS, status=401))
    with pytest.raises(AlpacaDataError) as err:
        _market(fake).bars_until("BTC", AS_OF)
    assert fake.headers_seen[0]["APCA-API-KEY-ID"] == KEY
    for text in (str(err.value), caplog.text, repr(_access(fake))):
        assert KEY not in text and SECRET not in text
