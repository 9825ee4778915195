"""The stored watchlist: watch, unwatch and what it is, audited; Alpaca lookups remembered; the next cycle reads it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from pipeline.cycle import run_once
from pipeline.universe import catalogue_for, current_universe, watchlist
from providers.alpaca_assets import AlpacaAssetLookup, LookupFailed
from providers.alpaca_data import AlpacaAccess
from providers.bars import EmbeddedMarketData
from providers.catalogue import LOOKED_UP
from providers.sentiment_models import load_backend
from service.watchlist import WatchlistService
from storage.db import open_store
from storage.trading_models import AuditRow
from storage.universe_models import AssetLookupRow
from tests.conftest import utc
from tests.fake_alpaca import KEY, SECRET, Fault, FakeAlpaca
from tests.trading_fixtures import Clock, db_url, settings, template_db  # noqa: F401
from trading import audit, market_hours

NOW = utc(2026, 11, 21, 9)


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    server = FakeAlpaca({"ETH/USD": 3000.0}).start()
    yield server
    server.stop()


def _service(db_url: str, universe=("BTC", "ETH"), **overrides) -> WatchlistService:
    return WatchlistService(settings(db_url, universe=list(universe), **overrides), open_store(db_url), Clock(NOW))


def test_the_watchlist_starts_as_tb_universe(db_url: str) -> None:
    view = _service(db_url).current()
    assert view.symbols == ("BTC", "ETH")
    assert [(a.name, a.asset_class, a.origin) for a in view.assets] == [
        ("Bitcoin", "crypto", "TB_UNIVERSE"), ("Ethereum", "crypto", "TB_UNIVERSE")]


def test_watch_and_unwatch_change_the_stored_list_and_are_audited(db_url: str) -> None:
    service = _service(db_url)
    added = service.watch("nvda", "telegram:42")
    assert added.ok and added.changed and added.code == "OK" and added.watchlist.symbols == ("BTC", "ETH", "NVDA")
    assert added.watchlist.assets[-1].origin == "watched by telegram:42" and "NVDA (Nvidia)" in added.message
    removed = service.unwatch("ETH", "telegram:42")
    assert removed.changed and removed.watchlist.symbols == ("BTC", "NVDA")
    # A new service (another process, a restart) reads the same list from the store.
    assert _service(db_url).current().symbols == ("BTC", "NVDA")
    sessions = open_store(db_url)
    with sessions() as session:
        kinds = [(r.kind, r.actor, json.loads(r.payload)["symbol"]) for r in session.scalars(select(AuditRow).order_by(AuditRow.seq))]
        assert kinds == [("watchlist.watch", "telegram:42", "NVDA"), ("watchlist.unwatch", "telegram:42", "ETH")]
        assert audit.verify(session).broken_seq is None


def test_an_unknown_symbol_is_refused_with_the_nearest_known(db_url: str) -> None:
    result = _service(db_url).watch("APPL", "alice")
    assert not result.ok and result.code == "UNKNOWN_SYMBOL" and "AAPL" in result.nearest
    assert "APPL is not in the asset catalogue" in result.message and result.watchlist.symbols == ("BTC", "ETH")


def test_repeats_garbage_and_emptying_the_list_change_nothing(db_url: str) -> None:
    service = _service(db_url, universe=("BTC",))
    assert service.watch("BTC", "alice").code == "ALREADY_WATCHED" and not service.watch("BTC", "alice").changed
    assert service.watch("BTC; DROP TABLE", "alice").code == "BAD_SYMBOL"
    assert service.watch("", "alice").code == "BAD_SYMBOL"
    not_there = service.unwatch("ETHH", "alice")
    assert not_there.code == "NOT_WATCHED" and not not_there.ok
    last = service.unwatch("BTC", "alice")
    assert last.code == "LAST_SYMBOL" and last.watchlist.symbols == ("BTC",)
    with open_store(db_url)() as session:
        assert session.scalars(select(AuditRow)).first() is None


def test_a_changed_tb_universe_still_counts_and_operator_changes_survive_it(db_url: str) -> None:
    _service(db_url).unwatch("ETH", "alice")
    _service(db_url).watch("SOL", "alice")
    later = _service(db_url, universe=("BTC", "ETH", "DOGE"))
    assert later.current().symbols == ("BTC", "DOGE", "SOL")  # ETH stays unwatched, DOGE arrives, SOL kept
    assert later.watch("ETH", "bob").watchlist.symbols == ("BTC", "ETH", "DOGE", "SOL")


# --- a US symbol the catalogue lacks, looked up at Alpaca -------------------------------------------------


def _alpaca(db_url: str, fake: FakeAlpaca, **extra) -> WatchlistService:
    return _service(db_url, alpaca_key=KEY, alpaca_secret=SECRET, alpaca_trading_url=fake.url,
                    provider_read_timeout_seconds=2.0, **extra)


def test_with_alpaca_keys_a_missing_us_symbol_is_looked_up_and_remembered(db_url: str, fake: FakeAlpaca) -> None:
    result = _alpaca(db_url, fake).watch("SOFI", "alice")
    assert result.changed and result.watchlist.assets[-1].name == "SoFi Technologies"
    assert fake.requests.count(("GET", "/v2/assets/SOFI")) == 1
    sessions = open_store(db_url)
    with sessions() as session:
        row = session.get_one(AssetLookupRow, "SOFI")
        assert (row.asset_class, row.exchange, row.tradable, row.fractionable) == ("us_equity", "NASDAQ", True, True)
    catalogue = catalogue_for(settings(db_url), sessions)  # remembered: no key needed to know it any more
    assert catalogue["SOFI"].tickers == ("SOFI",) and catalogue.sources["SOFI"] == LOOKED_UP
    assert market_hours.asset_class("SOFI") == "us_equity"
    _alpaca(db_url, fake).unwatch("SOFI", "alice")
    assert _alpaca(db_url, fake).watch("SOFI", "alice").changed
    assert fake.requests.count(("GET", "/v2/assets/SOFI")) == 1  # the store answered the second time


def test_a_symbol_alpaca_does_not_know_is_unknown_and_an_outage_says_so(db_url: str, fake: FakeAlpaca) -> None:
    unknown = _alpaca(db_url, fake).watch("ZZZQ", "alice")
    assert unknown.code == "UNKNOWN_SYMBOL" and ("GET", "/v2/assets/ZZZQ") in fake.requests
    fake.faults.append(Fault("status", method="GET", path="/v2/assets/GME", status=500))
    failed = _alpaca(db_url, fake).watch("GME", "alice")
    assert failed.code == "LOOKUP_FAILED" and "HTTP 500" in failed.message and SECRET not in failed.message
    assert failed.watchlist.symbols == ("BTC", "ETH")


def test_the_lookup_reads_alpacas_answer_like_alpaca_py_does(fake: FakeAlpaca) -> None:
    lookup = AlpacaAssetLookup(AlpacaAccess(KEY, SECRET, None, 2.0, 2.0), paper=True, trading_url=fake.url)
    found = lookup.lookup("gme")
    assert found is not None and (found.symbol, found.name, found.fractionable) == ("GME", "GameStop Corp. Class A Common Stock", True)
    assert found.asset().name == "GameStop" and found.asset().calendar == "XNYS"
    assert lookup.lookup("NOPE") is None and lookup.lookup("BTC/USD") is None  # not a US listing: not asked
    fake.faults.append(Fault("hang", method="GET", path="/v2/assets/AAPL"))
    slow = AlpacaAssetLookup(AlpacaAccess(KEY, SECRET, None, 0.3, 0.3), paper=True, trading_url=fake.url)
    with pytest.raises(LookupFailed, match="no answer from Alpaca in time"):
        slow.lookup("AAPL")


# --- the next cycle reads the stored watchlist ---------------------------------------------------------


@pytest.fixture(scope="module")
def backend():
    return load_backend("embedded", "unused").backend


def test_the_next_cycle_uses_the_stored_watchlist(db_url: str, tmp_path: Path, backend) -> None:
    config = settings(db_url, universe=["BTC", "ETH", "COIN"], artifacts_dir=tmp_path / "artifacts")
    sessions = open_store(db_url)
    first = run_once(config, sessions, backend, [], EmbeddedMarketData(), NOW)
    assert {s.symbol for s in first.signals} == {"BTC", "ETH", "COIN"}
    service = WatchlistService(config, sessions, Clock(NOW))
    service.watch("MSTR", "alice")
    service.unwatch("ETH", "alice")
    second = run_once(config, sessions, backend, [], EmbeddedMarketData(), NOW)
    assert {s.symbol for s in second.signals} == {"BTC", "COIN", "MSTR"}
    assert [item.name for item in second.digest.items if item.symbol == "MSTR"] == ["Strategy"]
    assert watchlist(config, sessions) == ["BTC", "COIN", "MSTR"]


def test_a_watched_symbol_the_catalogue_lost_is_skipped_and_said(db_url: str, tmp_path: Path) -> None:
    mine = tmp_path / "assets.csv"
    mine.write_text("symbol,name,asset_class\nPOL,Polygon,crypto\n", encoding="utf-8")
    with_file = settings(db_url, assets_file=mine)
    WatchlistService(with_file, open_store(db_url), Clock(NOW)).watch("POL", "alice")
    universe = current_universe(settings(db_url), open_store(db_url))  # the file is gone from the settings
    assert "POL" in universe.symbols and "POL" not in {a.symbol for a in universe.assets}
    assert [p.message for p in universe.problems] == [
        "POL is on the watchlist but not in the asset catalogue; skipped (nearest known: PPL, ROL, SOL)"]
