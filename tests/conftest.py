from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from providers.feeds import read_feed_directory

# SQLite always, PostgreSQL too when TB_TEST_DATABASE_URL is set (tests/pg_fixtures.py).
pytest_plugins = ("tests.pg_fixtures",)

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test sees only the settings it sets, and a working directory of its own (no stray .env)."""
    for name in list(os.environ):
        if name.startswith("TB_") or name == "ANTHROPIC_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    # The catalogue in force (providers/catalogue.py) is the shipped one unless a test sets its own.
    monkeypatch.setattr("providers.catalogue._in_force", None)


@pytest.fixture(scope="session")
def embedded_headlines():
    batch = read_feed_directory()
    assert not batch.problems
    return batch.headlines


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
