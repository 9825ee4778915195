"""The replay command on the March-April 2018 copy of the replay data: contract, cache, no look-ahead."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import tracer_bullet
from intelligence.outcomes import resolve_outcome
from intelligence.types import Direction
from providers.bars import read_bars
from storage.db import open_store
from storage.models import SentimentRow
from tests.conftest import utc

REPLAY = Path(__file__).resolve().parent / "data" / "replay"
NEWS = ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
REQUIRED = ("as_of", "symbol", "direction", "probability", "horizon_hours", "conviction", "narrative_score",
            "price_score", "divergence", "reason_codes", "headline_count", "sources")
T = utc(2018, 3, 28)  # a session's as-of: every signal at or before it must survive any change after it


def _settings_env(patch: pytest.MonkeyPatch, url: str) -> None:
    for name in list(os.environ):
        if name.startswith("TB_") or name == "ANTHROPIC_API_KEY":
            patch.delenv(name)
    patch.setenv("TB_DATABASE_URL", url)
    patch.setenv("TB_SENTIMENT_BACKEND", "embedded")
    patch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    _settings_env(monkeypatch, url)
    return url


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One replay of the copy, shared by the tests that only read its output."""
    root = tmp_path_factory.mktemp("replay")
    with pytest.MonkeyPatch.context() as patch:
        _settings_env(patch, f"sqlite:///{root / 'replay.db'}")
        patch.chdir(root)
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            assert replay(root / "base") == 0
    return root / "base", printed.getvalue()


def replay(out: Path, news_dir: Path = REPLAY, bars: Path = REPLAY / "spy_daily.csv", *extra: str) -> int:
    argv = ["replay", *(a for name in NEWS for a in ("--news", str(news_dir / name))),
            "--bars", str(bars), "--out", str(out), "--from", "2018-02-26", *extra]
    return tracer_bullet.main(argv)


def rows(out: Path) -> list[dict[str, str]]:
    with (out / "signals.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_signals_csv_follows_the_contract(base) -> None:
    out, printed = base
    signals = rows(out)
    assert set(REQUIRED) <= set(signals[0])
    bars = read_bars(REPLAY / "spy_daily.csv", "SPY")
    sessions = [b.start for b in bars.bars if b.start >= utc(2018, 2, 26)]
    assert [datetime.fromisoformat(r["as_of"]) for r in signals] == sessions  # one signal per session
    for r in signals:
        assert r["symbol"] == "SPY" and r["horizon_hours"] == "24"
        assert r["direction"] in {"BUY", "SELL", "HOLD"}
        if r["direction"] == "HOLD":
            assert r["probability"] == ""
        else:
            p, codes = float(r["probability"]), r["reason_codes"].split(";")
            assert 0 < p < 1 and ("NO_PROVEN_EDGE" in codes or "EDGE_PROVEN" in codes)
            assert 0 < float(r["base_rate"]) < 1 and r["edge"] in ("none yet", "proven")
            # Below one half the call says why: its side's base rate, or a record worse than it.
            assert (p < 0.5) <= ("BASE_RATE_AGAINST" in codes or "TRACK_RECORD_AGAINST" in codes)
            assert ("BASE_RATE_AGAINST" in codes) <= (p < 0.5)
        assert math.isfinite(float(r["divergence"])) and -1 <= float(r["narrative_score"]) <= 1
        assert set(filter(None, r["sources"].split(";"))) <= {"CNBC", "Guardian", "Reuters"}
        assert int(r["headline_count"]) >= 0 and ";" not in r["reason_codes"].split(";")[0]
    assert any(r["direction"] != "HOLD" for r in signals)
    summary = json.loads((out / "replay.json").read_text())
    assert summary["signals"] == len(signals) and sum(summary["directions"].values()) == len(signals)
    assert summary["news_rows_skipped"]["guardian_headlines.csv"] == {"rows with an unparseable time column": 20}
    assert f"Replay of SPY: {len(signals)} signals" in printed and "skipped 20 rows" in printed


def test_the_evaluation_reads_what_the_replay_writes(base) -> None:
    from eval.signals import read_signals_csv

    read = read_signals_csv(base[0] / "signals.csv")
    assert len(read) == len(rows(base[0]))
    assert all((s.probability is None) == (s.direction is Direction.HOLD) for s in read)


def test_a_warm_replay_scores_nothing_again_and_writes_the_same_bytes(env, tmp_path: Path) -> None:
    assert replay(tmp_path / "cold") == 0
    store = open_store(env)
    with store() as session:
        scored = session.scalar(select(func.count()).select_from(SentimentRow))
    assert replay(tmp_path / "warm") == 0
    with store() as session:
        assert session.scalar(select(func.count()).select_from(SentimentRow)) == scored > 0
    assert (tmp_path / "cold" / "signals.csv").read_bytes() == (tmp_path / "warm" / "signals.csv").read_bytes()


def test_the_calibrator_only_knows_outcomes_resolved_before_each_as_of(base) -> None:
    signals = rows(base[0])
    bars = read_bars(REPLAY / "spy_daily.csv", "SPY")
    calls = [(datetime.fromisoformat(r["as_of"]), Direction(r["direction"])) for r in signals if r["direction"] != "HOLD"]
    for r in signals:
        if r["direction"] == "HOLD":
            continue
        as_of = datetime.fromisoformat(r["as_of"])
        known = [b for b in bars.bars if b.start + bars.interval <= as_of]
        outcomes = [resolve_outcome(t, d, timedelta(hours=24), known, bars.interval) for t, d in calls if t < as_of]
        resolved = sum(1 for o in outcomes if o is not None and o.exit_time < as_of)
        assert int(r["calibration_outcomes"]) == resolved


# --- no look-ahead -------------------------------------------------------------------------------

EASTERN = ZoneInfo("America/New_York")


def _known_after(name: str, row: list[str]) -> bool:
    """When the row's headline became known, by the data README's rules (written out again here)."""
    if name.startswith("cnbc"):
        text = " ".join(row[1].split())  # "7:04 PM ET Fri, 13 April 2018"
        clock, _, date = text.partition(" ET ")
        day = datetime.strptime(date.split(", ")[1].replace("Sept", "Sep"), "%d %B %Y" if len(date.split()[2]) > 3 else "%d %b %Y")
        local = datetime.combine(day.date(), datetime.strptime(clock, "%I:%M %p").time(), EASTERN)
        return local.astimezone(timezone.utc) > T
    if name.startswith("guardian"):
        try:
            day = datetime.strptime(row[0], "%d-%b-%y").date()
        except ValueError:
            return True  # undated rows are skipped by the reader anyway; change them too
        return datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo("Europe/London")) > T
    return datetime.fromisoformat(row[0]).replace(tzinfo=timezone.utc) + timedelta(days=1) > T


def _rewrite_news(target: Path, drop: bool) -> None:
    target.mkdir()
    title_column = {"cnbc": 0, "guardian": 1, "reuters": 1}
    for name in NEWS:
        with (REPLAY / name).open(newline="", encoding="utf-8") as handle:
            header, *body = list(csv.reader(handle))
        out = [header]
        for i, row in enumerate(body):
            if row and _known_after(name, row):
                if drop:
                    continue
                row = list(row)
                row[title_column[name.split("_")[0]]] = f"Wall Street nosedives as investors flee, day {i}"
            out.append(row)
        with (target / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(out)


def _rewrite_bars(target: Path, drop: bool) -> Path:
    lines = (REPLAY / "spy_daily.csv").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        date, *values = line.split(",")
        start = datetime.fromisoformat(date).replace(tzinfo=timezone.utc)
        if drop and start > T:
            continue
        if start + timedelta(days=1) > T:  # not closed by T: its prices are the future
            values = [f"{float(v) * 1.3:.6f}" for v in values[:5]] + [str(int(values[5]) * 3)]
        out.append(",".join([date, *values]))
    target.write_text("\n".join(out) + "\n")
    return target


def _through_t(out: Path) -> list[str]:
    lines = (out / "signals.csv").read_text(encoding="utf-8").splitlines()
    return [lines[0]] + [line for line in lines[1:] if datetime.fromisoformat(line.split(",")[0]) <= T]


@pytest.mark.parametrize("drop", [False, True], ids=["changed", "dropped"])
def test_no_signal_at_or_before_t_depends_on_anything_after_it(env, base, tmp_path: Path, drop: bool) -> None:
    news = tmp_path / "news"
    _rewrite_news(news, drop)
    bars = _rewrite_bars(tmp_path / "spy_daily.csv", drop)
    assert replay(tmp_path / "other", news, bars) == 0
    before, other = _through_t(base[0]), _through_t(tmp_path / "other")
    assert len(before) > 20 and before == other  # byte for byte, evidence lines included
    later_base = rows(base[0])[len(before) - 1:]
    later_other = rows(tmp_path / "other")[len(other) - 1:]
    if drop:
        assert later_other == [] and later_base
    else:
        # The change bites: the same sessions after T read a different story and tape.
        assert [r["narrative_score"] for r in later_base] != [r["narrative_score"] for r in later_other]


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error(env, tmp_path: Path, capsys) -> None:
    assert tracer_bullet.main(["replay", "--news", str(tmp_path / "none.csv"), "--bars", str(REPLAY / "spy_daily.csv"),
                               "--out", str(tmp_path / "o")]) == 2
    assert "no such news file" in capsys.readouterr().err
    args = ["replay", "--news", str(REPLAY / "reuters_headlines.csv"), "--out", str(tmp_path / "o")]
    assert tracer_bullet.main([*args, "--bars", str(REPLAY / "reuters_headlines.csv"), "--symbol", "SPY"]) == 2
    assert "missing column" in capsys.readouterr().err
    assert tracer_bullet.main([*args, "--bars", str(REPLAY / "spy_daily.csv"), "--symbol", "TSLAA"]) == 2
    assert "unknown symbol 'TSLAA' (nearest known: TSLA" in capsys.readouterr().err
    assert tracer_bullet.main([*args, "--bars", str(REPLAY / "spy_daily.csv"), "--from", "2018-04-01", "--to", "2018-03-01"]) == 2
    assert "--to must be after --from" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tracer_bullet.main([*args, "--bars", str(REPLAY / "spy_daily.csv"), "--from", "last tuesday"])
    assert "is not an ISO date" in capsys.readouterr().err


def test_from_and_to_bound_the_sessions(env, tmp_path: Path) -> None:
    assert replay(tmp_path / "out", REPLAY, REPLAY / "spy_daily.csv", "--to", "2018-03-09") == 0
    as_ofs = [datetime.fromisoformat(r["as_of"]) for r in rows(tmp_path / "out")]
    assert as_ofs[0] == utc(2018, 2, 26) and as_ofs[-1] == utc(2018, 3, 9) and len(as_ofs) == 10


def test_sessions_without_a_signal_are_counted_by_kind_and_told_with_real_figures(env, tmp_path: Path,
                                                                                   monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert replay(tmp_path / "early", REPLAY, REPLAY / "spy_daily.csv", "--from", "2017-12-18") == 0
    summary = capsys.readouterr().out
    # Every early session lacks history, each with its own count of bars: one line for all of them.
    [line] = [ln for ln in summary.splitlines() if "made no signal" in ln]
    assert line.strip().startswith("20 sessions made no signal, the first because SPY bars: need at least 20 bars")
    assert "#" not in line
    skipped = json.loads((tmp_path / "early" / "replay.json").read_text())["sessions_skipped"]
    assert list(skipped.values()) == [20]
