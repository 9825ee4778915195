"""The evaluation summary served to chat: made once per freshness window, made again once stale or its files are gone."""
from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from intelligence.types import Direction
from service.evaluations import EvaluationSummaries
from storage.db import open_store
from tests.chat_fixtures import seed_run
from tests.conftest import utc
from tests.trading_fixtures import db_url, template_db  # noqa: F401  (fixtures)

NOW = utc(2025, 12, 20, 12)


def test_a_fresh_summary_is_served_again_and_a_stale_or_deleted_one_is_made_anew(db_url: str, tmp_path: Path) -> None:
    sessions = open_store(db_url)
    seed_run(sessions, utc(2025, 12, 13, 10), [("SOL", Direction.BUY, 0.56, 0.8)])
    now = [NOW]
    summaries = EvaluationSummaries(sessions, lambda: now[0], None, tmp_path / "runs", 10.0, 5.0, fresh_seconds=900)
    first = summaries.summary()
    assert first.artifacts is not None and first.artifacts.is_dir()
    now[0] = NOW + timedelta(minutes=10)
    assert summaries.summary() is first
    now[0] = NOW + timedelta(minutes=20)
    second = summaries.summary()
    assert second is not first
    shutil.rmtree(second.artifacts)
    assert summaries.summary() is not second  # its files back every number: without them it is made again


def test_a_failed_evaluation_says_why_and_is_not_kept(db_url: str, tmp_path: Path) -> None:
    sessions = open_store(db_url)
    blocked = tmp_path / "runs"
    blocked.write_text("a file where the runs directory should be")
    summaries = EvaluationSummaries(sessions, lambda: NOW, None, blocked, 10.0, 5.0, fresh_seconds=900)
    failed = summaries.summary()
    assert failed.artifacts is None
    blocked.unlink()
    assert summaries.summary().artifacts is not None
