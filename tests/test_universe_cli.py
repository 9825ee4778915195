"""The universe from the command line as a user meets it: `assets`, `match`, TB_UNIVERSE and TB_ASSETS_FILE."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import _cli, _env


def test_assets_search_finds_apple_as_json(tmp_path: Path) -> None:
    found = _cli("assets", "--search", "apple", "--json", env=_env(tmp_path), cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    entries = json.loads(found.stdout)
    assert entries[0]["symbol"] == "AAPL" and entries[0]["name"] == "Apple Inc." and entries[0]["asset_class"] == "us_equity"
    assert entries[0]["watched"] is False and {"symbol", "name", "asset_class", "calendar", "source"} <= set(entries[0])
    listing = _cli("assets", env=_env(tmp_path), cwd=tmp_path)
    assert listing.returncode == 0 and "* BTC    crypto    Bitcoin" in listing.stdout and "538 of 538 assets" in listing.stderr
    nothing = _cli("assets", "--search", "no such thing", env=_env(tmp_path), cwd=tmp_path)
    assert nothing.returncode == 1 and "no asset matches 'no such thing'" in nothing.stderr


def test_match_answers_each_line_with_the_assets_it_names(tmp_path: Path) -> None:
    lines = ["Target shares fall after profit warning", "Citi raises its price target on Apple", "",
             "Bitcoin slides as Coinbase volumes drop"]
    run = _cli("match", env=_env(tmp_path), cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["text"] for o in out] == lines
    named = [{m["symbol"] for m in o["matches"] if m["named"]} for o in out]
    assert "TGT" in named[0] and named[1] >= {"AAPL", "C"} and "TGT" not in named[1] and named[2] == set()
    assert named[3] >= {"BTC", "COIN"} and all(0 < m["relevance"] <= 1 for o in out for m in o["matches"])
    only = _cli("match", "--universe", "btc,COIN", env=_env(tmp_path), cwd=tmp_path, stdin=lines[3] + "\n")
    assert {m["symbol"] for m in json.loads(only.stdout)["matches"]} == {"BTC", "COIN"}


def test_match_with_an_unknown_symbol_exits_2_naming_the_nearest(tmp_path: Path) -> None:
    run = _cli("match", "--universe", "BTC,APPL", env=_env(tmp_path), cwd=tmp_path, stdin="Apple\n")
    assert run.returncode == 2 and "unknown symbol APPL (nearest known: APP, AAPL" in run.stderr and run.stdout == ""


@pytest.mark.parametrize("universe, said", [
    ("BTC,APPL", "TB_UNIVERSE: unknown symbol APPL (nearest known: APP, AAPL"),
    ("BTC,ETH,BTC", "TB_UNIVERSE: Value error, BTC listed more than once"),
])
def test_a_universe_the_catalogue_cannot_serve_exits_2(tmp_path: Path, universe: str, said: str) -> None:
    run = _cli("status", env=_env(tmp_path, TB_UNIVERSE=universe), cwd=tmp_path)
    assert run.returncode == 2 and said in run.stderr and "Traceback" not in run.stderr


def test_a_malformed_assets_file_exits_2_naming_the_file_and_line(tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("symbol,name,asset_class\nPOL,Polygon,crypto\nPLTR,Palantir,stock\n", encoding="utf-8")
    run = _cli("status", env=_env(tmp_path, TB_ASSETS_FILE=str(mine)), cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert f"TB_ASSETS_FILE: {mine}: line 3: PLTR: asset_class 'stock' is not one of crypto, us_equity, etf" in run.stderr


def test_the_users_file_puts_a_new_asset_in_the_universe(tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("symbol,name,asset_class,aliases\nPOL,Polygon,crypto,polygon|matic\n", encoding="utf-8")
    env = _env(tmp_path, TB_ASSETS_FILE=str(mine), TB_UNIVERSE="BTC,POL")
    found = json.loads(_cli("assets", "--search", "polygon", "--json", env=env, cwd=tmp_path).stdout)
    assert [(e["symbol"], e["source"], e["watched"]) for e in found] == [("POL", str(mine.resolve()), True)]


@pytest.mark.slow
def test_run_once_on_coins_and_stocks_gives_each_a_row_with_its_own_evidence(tmp_path: Path) -> None:
    env = _env(tmp_path, TB_UNIVERSE="BTC,ETH,COIN,MSTR", TB_ARTIFACTS_DIR=str(tmp_path / "artifacts"))
    run = _cli("run", "--once", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert all(symbol in run.stdout for symbol in ("BTC", "ETH", "COIN", "MSTR")) and "DEGRADED" not in run.stdout
    # The digest's rows and evidence lines (the terminal shows the actionable ones, `/digest full` every one).
    [artifact] = (tmp_path / "artifacts").glob("run-*.json")
    evidence = {s["symbol"]: s["evidence"] for s in json.loads(artifact.read_text())["signals"]}
    assert sorted(evidence) == ["BTC", "COIN", "ETH", "MSTR"]
    for symbol, name in (("BTC", "Bitcoin"), ("ETH", "Ethereum"), ("COIN", "Coinbase"), ("MSTR", "Strategy")):
        assert name in evidence[symbol]  # its own line, by its catalogue name
    assert len(set(evidence.values())) == 4


@pytest.mark.slow
def test_run_once_on_stocks_without_embedded_bars_is_degraded_not_a_crash(tmp_path: Path) -> None:
    run = _cli("run", "--once", env=_env(tmp_path, TB_UNIVERSE="AAPL,NVDA,MSFT"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    degraded = next(line for line in run.stdout.splitlines() if line.startswith("DEGRADED"))
    assert all(f"{s} bars: no bars for symbol '{s}'" in degraded for s in ("AAPL", "NVDA", "MSFT"))
