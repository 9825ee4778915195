"""The full SPY 2018-2019 replay, cut at a date: every earlier signal byte-identical (slow, ~minutes).

Reads ../shared/data/replay/spy_2018_2019 (or TRACER_SHARED_DATA) through scripts/replay_leak_check.py
and skips cleanly where that folder is absent (a fresh clone has no ../shared). The small copy under
tests/data/replay has the same check in the default run (test_replay.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

from replay_leak_check import DATA, NEWS, check  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not all((DATA / name).is_file() for name in NEWS), reason=f"no shared replay data at {DATA}")
def test_removing_everything_after_t_leaves_every_earlier_signal_byte_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check points these at each replay's own store; set here first so that they are restored after.
    monkeypatch.setenv("TB_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("TB_SENTIMENT_BACKEND", "embedded")
    count, differing = check()
    assert count > 200  # about half of the replay's sessions lie before t
    assert differing == []
