"""The command line as a user runs it: a real process, the real environment contract."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.snapshot_fixtures import feeds_until


def _cli(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "tracer_bullet.py"), *args],
        env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300,
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TB_")}
    env.update({"TB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "HF_HUB_OFFLINE": "1"}, **extra)
    return env


def test_run_once_prints_the_digest_and_status_shows_the_proposal(tmp_path: Path) -> None:
    # The embedded snapshot cut where the engine makes a call that sizes to a proposal (tests/snapshot_fixtures.py).
    env = _env(tmp_path, TB_FEEDS_DIR=str(feeds_until(tmp_path / "feeds")))
    run = _cli("run", "--once", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "digest as of 2025-12-11 21:40 UTC" in run.stdout
    assert "sentiment by the embedded model" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stdout.splitlines()
    proposal_line = lines[lines.index("Proposal") + 1]  # the digest's last section

    status = _cli("status", "--json", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["trading_state"] == "ACTIVE" and report["mode"] == "simulated" and report["paused"] is False
    assert report["sentiment_backend"] == "embedded" and report["degraded"] is False and report["last_run"]
    [pending] = report["pending_proposals"]
    assert proposal_line.startswith(f"#{pending['id']} {pending['side'].upper()}")

    text = _cli("status", env=env, cwd=tmp_path).stdout
    assert f"#{pending['id']} {pending['side'].upper()}" in text and "Mode: simulated" in text

    proposals = json.loads(_cli("proposals", "--json", env=env, cwd=tmp_path).stdout)
    assert [(p["id"], p["status"]) for p in proposals] == [(pending["id"], "proposed")]


def test_pause_and_resume(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert json.loads(_cli("pause", "--json", env=env, cwd=tmp_path).stdout)["trading_state"] == "HALTED"
    assert "already HALTED" in _cli("pause", env=env, cwd=tmp_path).stdout
    assert json.loads(_cli("status", "--json", env=env, cwd=tmp_path).stdout)["paused"] is True
    assert "Trading resumed (it was HALTED)." in _cli("resume", env=env, cwd=tmp_path).stdout
    assert "ACTIVE -> REDUCING" in _cli("reduce", env=env, cwd=tmp_path).stdout
    # Every change of trading state is a link in the audit chain.
    audit = json.loads(_cli("audit", "verify", "--json", env=env, cwd=tmp_path).stdout)
    assert audit["intact"] is True and audit["count"] == 3


def test_invalid_setting_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = _cli("run", "--once", env=_env(tmp_path, TB_SENTIMENT_BACKEND="finbrt", TB_HORIZON_HOURS="-3"), cwd=tmp_path)
    assert result.returncode == 2
    assert "TB_SENTIMENT_BACKEND" in result.stderr and "TB_HORIZON_HOURS" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_unusable_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = _cli("status", env=_env(tmp_path, TB_DATABASE_URL="nosuchdb://user:hunter2@host/db"), cwd=tmp_path)
    assert result.returncode == 2 and "cannot open store" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_sentiment_command_speaks_json_lines(tmp_path: Path) -> None:
    texts = "Bitcoin soars to a record high as ETF inflows surge\nExchange hack drains user funds\n"
    result = _cli("sentiment", "--backend", "embedded", env=_env(tmp_path), cwd=tmp_path, stdin=texts)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == texts.splitlines()
    for row in rows:
        assert set(row) == {"text", "label", "positive", "negative", "neutral"}
        assert row["label"] in ("positive", "negative", "neutral")
        assert abs(row["positive"] + row["negative"] + row["neutral"] - 1) < 1e-6


def test_run_without_once_says_what_to_do(tmp_path: Path) -> None:
    result = _cli("run", env=_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "--once" in result.stderr


def test_run_with_finbert_forced_but_no_weights_is_a_clear_error(tmp_path: Path) -> None:
    env = _env(tmp_path, TB_SENTIMENT_BACKEND="finbert", TB_FINBERT_MODEL=str(tmp_path / "no-such-model"))
    result = _cli("run", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 1 and "cannot load the sentiment model" in result.stderr
    assert "no-such-model" in result.stderr and "Traceback" not in result.stderr
