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
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

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
