"""The trading commands as the shell runs them (DESIGN.md §3): text, --json and exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import tracer_bullet
from storage.db import open_store
from tests.conftest import REPO
from tests.snapshot_fixtures import feeds_until
from tests.trading_fixtures import add_proposal, db_url, template_db  # noqa: F401  (fixtures)


@pytest.fixture
def shell(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("TB_DATABASE_URL", db_url)

    def run(*argv: str) -> tuple[int, str]:
        code = tracer_bullet.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def _proposal(db_url: str, **kw) -> int:
    # Made now on the wall clock from the embedded snapshot's data: the simulated market is at its as_of.
    return add_proposal(open_store(db_url), created_at=datetime.now(timezone.utc), **kw)


def test_approve_then_orders_positions_and_pnl(shell, db_url: str) -> None:
    pid = _proposal(db_url, quantity=0.5)
    code, out = shell("approve", str(pid), "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["code"] == "OK" and result["proposal"]["status"] == "filled"
    code, out = shell("orders", "--json")
    orders = json.loads(out)
    assert code == 0 and {"id", "symbol", "side", "status", "proposal_id", "client_order_id"} <= set(orders[0])
    [entry] = [o for o in orders if o["role"] == "entry"]
    assert (entry["proposal_id"], entry["symbol"], entry["side"], entry["status"]) == (pid, "ETH", "buy", "filled")
    assert entry["client_order_id"].endswith(f"-p{pid}")
    code, out = shell("positions", "--json")
    assert code == 0 and [(p["symbol"], p["side"], p["quantity"]) for p in json.loads(out)] == [("ETH", "long", 0.5)]
    code, out = shell("pnl")
    assert code == 0 and "Equity" in out and "Drawdown" in out
    code, out = shell("approve", str(pid))
    assert code == 0 and "already approved by shell" in out
    code, out = shell("orders")
    assert "BUY 0.5 ETH market, entry" in out and f"Order 1 for proposal #{pid}: filled 0.5 at" in out
    assert shell("audit", "verify")[0] == 0
    code, out = shell("reconcile", "--json")
    assert code == 0 and json.loads(out)["clean"] is True


def test_refusals_and_confirmations_have_their_exit_codes(shell, db_url: str) -> None:
    pid = _proposal(db_url, quantity=0.5)
    code, out = shell("size", str(pid), "half")
    assert code == 1 and "'half' is not a size" in out and "Traceback" not in out
    code, out = shell("size", str(pid), "2x")
    assert code == 3 and "--confirm" in out
    code, out = shell("size", str(pid), "2x", "--confirm", "--json")
    assert code == 0 and json.loads(out)["proposal"]["quantity"] == 1.0
    code, out = shell("reject", str(pid))
    assert code == 0 and "rejected" in out
    code, out = shell("approve", str(pid))
    assert code == 1 and "already rejected" in out
    code, out = shell("approve", "999")
    assert code == 1 and "no proposal #999" in out


def test_garbled_ids_are_usage_errors(shell) -> None:
    with pytest.raises(SystemExit) as exit_:
        shell("approve", "seven")
    assert exit_.value.code == 2


@pytest.mark.slow
def test_the_design_contract_in_real_processes(tmp_path: Path) -> None:
    # The snapshot cut where the engine makes a call (tests/snapshot_fixtures.py): on the whole of it, every asset holds.
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "TB_FEEDS_DIR": str(feeds_until(tmp_path / "feeds"))}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(REPO / "tracer_bullet.py"), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    assert cli("run", "--once").returncode == 0
    [pending] = json.loads(cli("proposals", "--json").stdout)
    approved = cli("approve", str(pending["id"]), "--json")
    assert approved.returncode == 0 and json.loads(approved.stdout)["proposal"]["status"] == "filled", approved.stderr
    orders = json.loads(cli("orders", "--json").stdout)
    assert {o["proposal_id"] for o in orders} == {pending["id"]}
    verified = cli("audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout


def test_close_asks_then_closes_once_and_the_reports_agree(shell, db_url: str) -> None:
    pid = _proposal(db_url, quantity=0.5)
    assert shell("approve", str(pid))[0] == 0
    code, out = shell("close", "eth")
    assert code == 3 and "Please confirm" in out and "LONG 0.5 ETH" in out and "--confirm" in out
    code, out = shell("close", "ETH", "--confirm", "--json")
    closed = json.loads(out)
    assert code == 0 and closed["code"] == "OK" and closed["close"]["status"] == "filled"
    assert closed["close"]["client_order_id"].endswith("-1") and "-x" in closed["close"]["client_order_id"]
    code, out = shell("close", "ETH", "--confirm", "--json")
    assert code == 0 and json.loads(out)["code"] == "ALREADY_CLOSED"
    orders = json.loads(shell("orders", "--json")[1])
    assert [o["role"] for o in orders if o["role"] == "close"] == ["close"]

    realised = json.loads(shell("pnl", "--json")[1])["realized_pnl"]
    profit = json.loads(shell("profit", "--json")[1])
    trades = json.loads(shell("trades", "--json")[1])
    daily = json.loads(shell("daily", "--days", "400", "--json")[1])
    performance = json.loads(shell("performance", "--json")[1])
    assert realised < 0 and profit["realized_pnl"] == pytest.approx(realised) and profit["closed"] == 1
    assert [(t["symbol"], t["exit"]) for t in trades] == [("ETH", "close")]
    assert trades[0]["realized_pnl"] == pytest.approx(realised) and daily["realized_pnl"] == pytest.approx(realised)
    assert [(p["symbol"], p["closed"]) for p in performance] == [("ETH", 1)]
    code, out = shell("trades", "--limit", "5")
    assert code == 0 and "1. ETH long 0.5" in out and "closed by an operator" in out
    assert shell("audit", "verify")[0] == 0


def test_keep_flatten_and_garbled_symbols_in_the_shell(shell, db_url: str) -> None:
    pid = _proposal(db_url, quantity=0.5)
    assert shell("approve", str(pid))[0] == 0
    code, out = shell("keep", "ETH")
    assert code == 0 and "stays open past its signal's horizon" in out
    code, out = shell("keep", "ETH", "--off")
    assert code == 0 and "closes again at its signal's horizon" in out
    code, out = shell("flatten")
    assert code == 3 and "LONG 0.5 ETH" in out
    code, out = shell("flatten", "--confirm", "--json")
    assert code == 0 and [c["symbol"] for c in json.loads(out)["closes"]] == ["ETH"]
    assert json.loads(shell("positions", "--json")[1]) == []
    code, out = shell("keep", "ETH")
    assert code == 1 and "no open ETH position" in out
    for bad in ("ET H", "S&P", "X" * 17):
        with pytest.raises(SystemExit) as exit_:
            shell("close", bad)
        assert exit_.value.code == 2
