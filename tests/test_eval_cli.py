"""`tracer_bullet.py eval` end to end on a real replay's signals and the real SPY sessions behind them."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from eval.resolve import SingleFileBars, resolve_all
from eval.signals import read_signals_csv
from storage.db import open_store
from storage.eval_models import OutcomeRow
from tests.conftest import utc
from tests.eval_fixtures import store_signal
from tracer_bullet import main

DATA = Path(__file__).resolve().parent / "data" / "eval"
SIGNALS, BARS = DATA / "spy_signals_2018.csv", DATA / "SPY_2018.csv"


def expected_outcomes() -> list[tuple[float, int]]:
    """(stated probability, hit) worked out from the two CSVs directly: a replay signal is dated at 00:00
    UTC of a session, so it enters at that session's open and, over 24 hours, exits at its close."""
    with BARS.open() as handle:
        sessions = {row["Date"]: (float(row["Open"]), float(row["Close"])) for row in csv.DictReader(handle)}
    out = []
    with SIGNALS.open() as handle:
        for row in csv.DictReader(handle):
            day = row["as_of"][:10]
            if row["direction"] == "HOLD" or day not in sessions:
                continue
            assert row["as_of"].endswith("T00:00:00+00:00") and row["horizon_hours"] == "24"
            opened, closed = sessions[day]
            hit = closed > opened if row["direction"] == "BUY" else closed < opened
            out.append((float(row["probability"]), int(hit)))
    return out


def test_eval_of_a_replay_writes_the_contract_artifacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["eval", "--signals", str(SIGNALS), "--bars", str(BARS), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    document = json.loads((out / "metrics.json").read_text())
    expected = expected_outcomes()
    assert document["count"] == len(expected) >= 30 and document["note"] is None
    assert document["brier"] == pytest.approx(sum((p - y) ** 2 for p, y in expected) / len(expected))
    assert document["hit_rate"] == pytest.approx(sum(y for _, y in expected) / len(expected))
    assert document["signals"]["open"] >= 1  # the bars stop before the last calls' sessions
    for name in ("climatology", "price_only", "sentiment_only"):
        baseline = document["baselines"][name]
        assert 0 < baseline["brier"] < 1 and baseline["intervals"]["brier"][0] <= baseline["brier"]
    low, high = document["intervals"]["brier_skill"]
    assert low <= document["brier_skill"] <= high
    with (out / "calibration.csv").open() as handle:
        assert sum(int(r["count"]) for r in csv.DictReader(handle)) == len(expected)
    for name in ("reliability.png", "equity.png"):
        assert Image.open(out / name).size[0] >= 800
    assert {"cohorts.csv", "outcomes.csv"} <= {p.name for p in out.iterdir()}
    assert "engine" in printed and "climatology" in printed and f"Artifacts: {out}" in printed


def test_without_out_the_run_goes_to_a_timestamped_eval_runs_directory(tmp_path: Path) -> None:
    assert main(["eval", "--signals", str(SIGNALS), "--bars", str(BARS)]) == 0
    runs = list((tmp_path / "eval_runs").iterdir())  # the tests run in tmp_path
    assert len(runs) == 1 and (runs[0] / "metrics.json").exists()


def test_a_handful_of_signals_gets_the_plain_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = SIGNALS.read_text().splitlines()
    few = tmp_path / "few.csv"
    few.write_text("\n".join(lines[:40]) + "\n")  # the first weeks: a few calls among the holds
    assert main(["eval", "--signals", str(few), "--bars", str(BARS), "--out", str(tmp_path / "run")]) == 0
    document = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 < document["count"] < 30
    assert document["note"].startswith(f"Only {document['count']} signals have resolved, too few to judge")
    assert document["note"] in capsys.readouterr().out


def test_the_store_signals_are_resolved_and_their_outcomes_kept(database_url: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_DATABASE_URL", database_url)
    sessions = open_store(database_url)
    resolved = store_signal(sessions, "BTC", utc(2025, 12, 10, 9), "BUY", 0.58)
    store_signal(sessions, "ETH", utc(2025, 12, 10, 9), "HOLD", None)
    assert main(["eval", "--out", str(tmp_path / "run")]) == 0
    document = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert document["count"] == 1 and document["signals"]["hold"] == 1
    assert document["trades"] == {"available": False, "note": "no approved trade has a fill yet"}
    with sessions() as session:
        assert [row.signal_id for row in session.query(OutcomeRow)] == [resolved]
    assert main(["eval", "--out", str(tmp_path / "again")]) == 0  # a second run records nothing twice
    with sessions() as session:
        assert session.query(OutcomeRow).count() == 1


@pytest.mark.parametrize("arguments, message", [
    (["--bars", str(BARS)], "--bars needs --signals"),
    (["--signals", "missing.csv", "--bars", str(BARS)], "missing.csv: no such signals file"),
    (["--signals", str(SIGNALS), "--bars", "missing_bars.csv"], "missing_bars.csv: no such bar file"),
])
def test_bad_arguments_get_a_clear_error_and_no_traceback(arguments: list[str], message: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_garbled_signals_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = SIGNALS.read_text().splitlines()
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join([lines[0], lines[1].replace("+00:00", "", 1), *lines[2:5]]) + "\n")
    assert main(["eval", "--signals", str(broken), "--bars", str(BARS)]) == 2
    assert "broken.csv: line 2: as_of" in capsys.readouterr().err


def test_the_replays_calibrator_never_knew_an_outcome_before_it_was_resolved() -> None:
    """Cross-check from the evaluation side: at each call, the replay's calibrator used at most as many
    outcomes as had closed by then (holds included, the most any honest calibrator could have seen)."""
    signals = read_signals_csv(SIGNALS)
    resolutions = resolve_all(signals, SingleFileBars(BARS, ["SPY"]), datetime(2030, 1, 1, tzinfo=timezone.utc))
    closed = sorted(r.market.exit_time for r in resolutions if r.market is not None)
    with SIGNALS.open() as handle:
        used = [row["calibration_outcomes"] for row in csv.DictReader(handle)]
    checked = 0
    for signal, count in zip(signals, used):
        if count:
            assert int(count) <= sum(1 for t in closed if t <= signal.as_of), signal.as_of
            checked += 1
    assert checked >= 30
