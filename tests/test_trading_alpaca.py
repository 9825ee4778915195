"""The Alpaca paper path: alpaca-py's TradingClient against a loopback fake of the trading API,
with the faults that make duplicate orders in real life: timeouts after acceptance, 5xx, 429,
partial fills, rejections and a restart in the middle of a submission."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from storage.trading_models import FillRow, OrderRow
from tests.conftest import utc
from tests.fake_alpaca import KEY, SECRET, FakeAlpaca, Fault
from tests.trading_fixtures import (  # noqa: F401  (fixtures)
    Clock, add_proposal, db_url, make_world, proposal_status, settings, template_db,
)
from trading import ledger
from trading.alpaca_broker import AlpacaBroker
from trading.broker import OrderRequest
from trading.factory import build_broker

AS_OF = utc(2025, 12, 15, 15, 5)  # a Monday, 10:05 in New York: equities trade too
NOW = AS_OF + timedelta(minutes=10)
PRICES = {"ETH/USD": 3000.0, "BTC/USD": 90_000.0, "SPY": 600.0}


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    server = FakeAlpaca(dict(PRICES), hang_seconds=1.2).start()
    yield server
    server.stop()


def _alpaca(fake: FakeAlpaca, db_url: str, secret: str = SECRET, **extra):
    overrides = dict(alpaca_key=KEY, alpaca_secret=secret, alpaca_trading_url=fake.url, broker_timeout_seconds=0.5, **extra)

    def broker(sessions, clock):
        built = build_broker(settings(db_url, **overrides), sessions, clock)
        assert isinstance(built, AlpacaBroker) and built.paper
        return built

    return make_world(db_url, Clock(NOW), broker, **overrides)


def _propose(world, **kw) -> int:
    kw.setdefault("created_at", world.clock.now)
    kw.setdefault("as_of", AS_OF)
    return add_proposal(world.sessions, **kw)


def _client_id(world, pid: int) -> str:
    with world.sessions.begin() as session:
        return ledger.client_order_id(ledger.store_id(session, NOW), pid)


def test_the_run_once_proposal_fills_on_the_paper_path(fake: FakeAlpaca, db_url: str, tmp_path: Path) -> None:
    """A proposal from the signal engine, approved and filled through alpaca-py."""
    from pipeline.cycle import run_once
    from providers.bars import EmbeddedMarketData
    from providers.sentiment_models import load_backend

    from tests.snapshot_fixtures import CALL_AS_OF, feeds_until

    # The snapshot cut where the engine makes a call that sizes to a proposal (tests/snapshot_fixtures.py):
    # a SELL of bitcoin. Alpaca does not short crypto, so the account holds some bitcoin to sell.
    now = CALL_AS_OF + timedelta(minutes=6)  # just after the cut, so its prices are fresh
    held = 0.5
    fake.positions["BTCUSD"] = {"qty": held, "avg": PRICES["BTC/USD"]}
    fake.cash -= held * PRICES["BTC/USD"]  # the same equity, part of it in bitcoin
    world = _alpaca(fake, db_url)
    world.clock.now = now
    loaded = load_backend("embedded", "unused")
    chosen = settings(db_url, feeds_dir=feeds_until(tmp_path / "feeds"))
    report = run_once(chosen, world.sessions, loaded.backend, loaded.problems, EmbeddedMarketData(), now)
    world.clock.advance(minutes=2)
    result = world.service.approve(report.proposal_id, "alice")
    assert result.ok and result.proposal.status == "filled", result.message
    [body] = fake.posted
    symbol = result.proposal.symbol
    assert (symbol, body["side"]) == ("BTC", "sell")
    assert body["symbol"] == f"{symbol}/USD" and body["time_in_force"] == "gtc" and "order_class" not in body
    assert body["client_order_id"] == _client_id(world, report.proposal_id)
    [position] = world.service.positions()
    assert (position.symbol, position.quantity, position.broker) == (
        symbol, pytest.approx(held - result.proposal.quantity), "alpaca")
    assert world.service.pnl().equity == pytest.approx(100_000.0, rel=0.01)


def test_a_timeout_after_acceptance_is_looked_up_and_never_sent_twice(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    fake.faults.append(Fault("hang_after_accept"))
    pid = _propose(world)
    result = world.service.approve(pid, "alice")
    assert result.ok and result.proposal.status == "filled"
    cid = _client_id(world, pid)
    assert fake.order_posts() == 1 and len(fake.orders_for(cid)) == 1
    assert fake.requests[-4:-2] == [("POST", "/v2/orders"), ("GET", "/v2/orders:by_client_order_id")]
    assert world.sleeps == []


def test_a_500_is_looked_up_before_the_retry(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    fake.faults.append(Fault("status", status=500))
    pid = _propose(world)
    assert world.service.approve(pid, "alice").proposal.status == "filled"
    calls = [r for r in fake.requests if r[1].startswith("/v2/orders")]
    assert calls == [("POST", "/v2/orders"), ("GET", "/v2/orders:by_client_order_id"), ("POST", "/v2/orders")]
    assert world.sleeps == [0.5] and len(fake.orders) == 1


def test_a_429_waits_as_long_as_it_is_told(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    fake.faults.append(Fault("status", status=429, retry_after="2"))
    assert world.service.approve(_propose(world), "alice").proposal.status == "filled"
    assert world.sleeps == [2.0] and fake.order_posts() == 2 and len(fake.orders) == 1


def test_when_every_attempt_fails_nothing_is_resent_and_reconciliation_closes_it(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    fake.faults.extend([Fault("status", status=503)] * 3)
    pid = _propose(world)
    result = world.service.approve(pid, "alice")
    assert (result.ok, result.code) == (False, "SUBMIT_UNCERTAIN") and "will not be sent again" in result.message
    assert world.notifier.alerts[-1].kind == "error" and fake.orders == []
    assert world.service.approve(pid, "alice").code == "ALREADY_APPROVED"
    world.clock.advance(minutes=3)
    report = world.service.reconcile()
    assert any("never reached the broker" in d for d in report.differences)
    assert proposal_status(world.sessions, pid) == "failed"
    assert fake.order_posts() == 3  # the three attempts; reconciliation only looked


def test_an_approval_whose_submission_finds_the_broker_down_is_sent_when_it_is_back(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    fake.faults.append(Fault("status", method="GET", path="/v2/account", status=503, after=1))  # fine at approval only
    pid = _propose(world)
    result = world.service.approve(pid, "alice")
    assert (result.ok, result.code) == (False, "BROKER_UNAVAILABLE") and "approved but not sent" in result.message
    assert proposal_status(world.sessions, pid) == "approved" and fake.order_posts() == 0
    world.clock.advance(minutes=1)
    world.service.trading_tick()
    assert proposal_status(world.sessions, pid) == "filled" and fake.order_posts() == 1


def test_partial_fills_are_recorded_as_they_come(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    fake.fill_mode = "partial"
    pid = _propose(world, quantity=2.0)
    result = world.service.approve(pid, "alice")
    assert result.ok and result.proposal.status == "partially_filled"
    fake.prices["ETH/USD"] = 3010.0
    fake.fill_rest(_client_id(world, pid))
    [entry] = world.service.orders()
    assert (entry.status, entry.filled_quantity) == ("filled", 2.0)
    assert proposal_status(world.sessions, pid) == "filled"
    with world.sessions() as session:
        fills = [(f.quantity, f.price) for f in session.scalars(select(FillRow).order_by(FillRow.id))]
    assert fills == [(pytest.approx(0.8), pytest.approx(3000.0)), (pytest.approx(1.2), pytest.approx(3010.0))]
    assert world.notifier.kinds() == ["fill", "fill"]


def test_a_rejection_fails_the_proposal_without_a_retry(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    pid = _propose(world, side="sell")  # no ETH to sell: Alpaca refuses crypto short sales
    result = world.service.approve(pid, "alice")
    assert (result.ok, result.code) == (False, "REJECTED_BY_BROKER") and "insufficient balance" in result.message
    assert proposal_status(world.sessions, pid) == "failed" and fake.order_posts() == 1
    with world.sessions() as session:
        assert session.scalar(select(OrderRow.status)) == "rejected"


def test_a_restart_in_the_middle_of_a_submit_reconciles_and_never_submits_again(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    sent, unsent = _propose(world), _propose(world, symbol="BTC", price=90_000.0, quantity=0.01)
    for pid in (sent, unsent):  # approved and written down; then the process dies...
        _approve_and_write_order(world, pid)
    world.desk.broker.submit(_request(world, sent))  # ...after the broker took this one, before this one went out
    restarted = _alpaca(fake, db_url)
    restarted.clock.advance(minutes=3)
    report = restarted.service.reconcile()
    assert proposal_status(restarted.sessions, sent) == "filled"
    assert proposal_status(restarted.sessions, unsent) == "failed"
    assert len(report.differences) == 2 and fake.order_posts() == 1
    assert restarted.service.approve(sent, "bob").code == "ALREADY_APPROVED"
    restarted.service.trading_tick()
    assert fake.order_posts() == 1


def _approve_and_write_order(world, pid: int) -> None:
    from storage.models import ProposalRow
    from trading.proposals import ProposalStatus, claim

    with world.sessions.begin() as session:
        claim(session, session.get_one(ProposalRow, pid), ProposalStatus.PROPOSED, ProposalStatus.APPROVED, "alice", NOW)
    assert world.desk.executor.open(pid, _request(world, pid), "alice")


def _request(world, pid: int):
    from storage.models import ProposalRow

    with world.sessions.begin() as session:
        return world.desk._request(session, session.get_one(ProposalRow, pid))


def test_an_equity_order_goes_as_a_bracket_and_its_legs_are_tracked(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    pid = _propose(world, symbol="SPY", price=600.0, quantity=5.0, stop_distance=0.01)
    assert world.service.approve(pid, "alice").ok
    [body] = fake.posted
    assert body["order_class"] == "bracket" and body["time_in_force"] == "day"
    assert body["take_profit"] == {"limit_price": 609.0} and body["stop_loss"] == {"stop_price": 594.0}
    roles = {o.role: o.status for o in world.service.orders()}
    assert roles == {"entry": "filled", "take_profit": "new", "stop_loss": "held"}


def test_wrong_credentials_are_a_clear_refusal_without_the_secret(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url, secret="hunter2-wrong")
    result = world.service.approve(_propose(world), "alice")
    assert (result.ok, result.code) == (False, "BROKER_UNAVAILABLE")
    assert "refused the credentials" in result.message and "hunter2" not in result.message
    assert fake.order_posts() == 0


def test_reconciliation_reports_what_the_store_does_not_know(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    assert world.service.reconcile().clean
    stray = f"tb-{_client_id(world, 1).split('-')[1]}-p77"
    fake.fill_mode = "new"
    world.desk.broker.submit(OrderRequest(stray, "ETH", "buy", 0.1))
    fake.positions["BTCUSD"] = {"qty": 0.5, "avg": 90_000.0}
    differences = world.service.reconcile().differences
    assert any(stray in d and "does not know" in d for d in differences)
    assert "BTC: the broker holds 0.5, our fills add up to 0." in differences


def test_when_alpaca_is_down_positions_and_pnl_come_from_the_last_look_marked_stale(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    assert world.service.approve(_propose(world), "alice").ok
    assert not world.service.positions()[0].stale
    fake.stop()
    [position] = world.service.positions()
    assert position.stale and position.symbol == "ETH"
    pnl = world.service.pnl()
    assert pnl.stale and "cannot reach Alpaca" in (pnl.problem or "")


def test_paper_unless_live_is_enabled_twice_and_then_a_banner(fake: FakeAlpaca, db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import tracer_bullet
    from alpaca.common.enums import BaseURL
    from config import LIVE_TRADING_PHRASE
    from storage.db import open_store
    from trading.factory import live_banner

    keys = dict(alpaca_key=KEY, alpaca_secret=SECRET)
    for extra, base in (({}, BaseURL.TRADING_PAPER), ({"live_trading": True}, BaseURL.TRADING_PAPER),
                        ({"live_trading": True, "live_trading_confirm": LIVE_TRADING_PHRASE}, BaseURL.TRADING_LIVE)):
        config = settings(db_url, **keys, **extra)
        broker = build_broker(config, open_store(db_url), Clock(NOW))
        assert broker._client._base_url == base and broker.paper == (base == BaseURL.TRADING_PAPER)
        assert (live_banner(config) is not None) == (base == BaseURL.TRADING_LIVE)
    for name, value in (("TB_DATABASE_URL", db_url), ("TB_ALPACA_KEY", KEY), ("TB_ALPACA_SECRET", SECRET),
                        ("TB_ALPACA_TRADING_URL", fake.url), ("TB_LIVE_TRADING", "1"), ("TB_LIVE_TRADING_CONFIRM", LIVE_TRADING_PHRASE)):
        monkeypatch.setenv(name, value)
    assert tracer_bullet.main(["positions"]) == 0
    captured = capsys.readouterr()
    assert "LIVE TRADING" in captured.err and "REAL MONEY" in captured.err and SECRET not in captured.out + captured.err


def test_a_close_cancels_the_bracket_waits_for_alpaca_to_release_the_shares_and_sells_once(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    pid = _propose(world, symbol="SPY", price=600.0, quantity=5.0, stop_distance=0.01)
    assert world.service.approve(pid, "alice").ok
    # Alpaca holds the shares for the bracket's exits: a sell beside them is refused.
    with pytest.raises(Exception, match="insufficient qty available"):
        world.desk.broker.submit(OrderRequest("tb-by-hand", "SPY", "sell", 5.0))
    fake.prices["SPY"] = 603.0
    done = world.service.close("SPY", "alice", confirm=True)
    assert done.code == "OK" and done.close is not None and done.close.fill_price == pytest.approx(603.0)
    deletes = [path for method, path in fake.requests if method == "DELETE"]
    assert len(deletes) == 2 and all(path.startswith("/v2/orders/") for path in deletes)
    assert world.sleeps == [0.2]  # the first look still found the legs pending_cancel
    [close] = [b for b in fake.posted if b["client_order_id"].startswith(_client_id(world, pid).rsplit("-", 1)[0] + "-x")]
    assert (close["side"], close["qty"], close["type"], close.get("order_class")) == ("sell", 5.0, "market", None)
    assert fake.positions["SPY"]["qty"] == 0
    legs = {o.role: o.status for o in world.service.orders() if o.role in ("take_profit", "stop_loss")}
    assert legs == {"take_profit": "canceled", "stop_loss": "canceled"}
    assert world.service.close("SPY", "alice", confirm=True).code == "ALREADY_CLOSED"
    assert world.service.profit().realized_pnl == pytest.approx(5 * 3.0)  # Alpaca reports no per-order fee
    posts = fake.order_posts()
    assert world.service.close("SPY", "bob", confirm=True).ok and fake.order_posts() == posts


def test_a_position_closed_by_its_stop_at_alpaca_is_not_closed_again(fake: FakeAlpaca, db_url: str) -> None:
    world = _alpaca(fake, db_url)
    pid = _propose(world, symbol="SPY", price=600.0, quantity=5.0, stop_distance=0.01)
    assert world.service.approve(pid, "alice").ok
    fake.fill_leg(_client_id(world, pid), "stop", 594.0)
    result = world.service.close("SPY", "alice", confirm=True)
    assert (result.ok, result.code) == (True, "ALREADY_CLOSED") and "its stop-loss" in result.message
    assert fake.order_posts() == 1
    [trade] = world.service.trades()
    assert trade.exit == "stop_loss" and trade.realized_pnl == pytest.approx(-30.0)
