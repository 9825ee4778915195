"""The Claude cross-check inside a real cycle (bundled feeds and bars), against the fake Messages API."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.crosscheck import cross_check_polarity
from pipeline.cycle import model_key, run_once
from config import load_settings
from intelligence.types import Polarity
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from storage.db import open_store
from storage.llm_models import LlmPolarityRow
from storage.models import Run, SentimentRow
from tests.conftest import utc
from tests.fake_anthropic import KEY, FakeMessagesApi, Fault

NOW = utc(2026, 11, 21, 9, 0)


@pytest.fixture(scope="module")
def backend():
    return load_backend("embedded", "unused").backend


@pytest.fixture
def api():
    fake = FakeMessagesApi().start()
    yield fake
    fake.stop()


def _cycle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend, name: str, api: FakeMessagesApi | None, now=NOW):
    url = f"sqlite:///{tmp_path / name}.db"
    monkeypatch.setenv("TB_DATABASE_URL", url)
    if api is not None:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("TB_ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("TB_CLAUDE_TIMEOUT_SECONDS", "0.5")
    settings = load_settings()
    sessions = open_store(url)
    return run_once(settings, sessions, backend, (), EmbeddedMarketData(), now), sessions


def _narrative(report) -> dict[str, float]:
    return {s.symbol: s.narrative.score for s in report.signals}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, backend):
    """The same cycle with no key: what every degraded run must fall back to exactly."""
    with pytest.MonkeyPatch.context() as patch:
        report, _ = _cycle(patch, tmp_path_factory.mktemp("base"), backend, "base", None)
    return report


def test_checked_headlines_are_blended_and_both_scores_recorded(monkeypatch, tmp_path, backend, api, baseline) -> None:
    report, sessions = _cycle(monkeypatch, tmp_path, backend, "ok", api)
    assert not report.digest.degraded
    assert all(len(body["messages"]) == 1 for body in api.requests)
    asked = api.headlines_asked()
    assert asked and len(asked) == len(set(asked))  # each text once, even when two assets share it
    with sessions() as session:
        rows = session.scalars(select(LlmPolarityRow)).all()
        model_scores = {r.content_hash: r.positive - r.negative for r in session.scalars(select(SentimentRow))}
        assert session.scalars(select(Run)).one().status == "ok"
    assert len(rows) == len(asked)
    for row in rows:
        assert row.model == model_key(backend) and row.llm == "claude-haiku-4-5;polarity-1"
        assert row.model_score == pytest.approx(model_scores[row.content_hash])
        assert row.blended_score == pytest.approx(0.7 * row.model_score + 0.3 * row.polarity)
    # The fake rates by keywords, not like the model: some narrative moved, nothing else did.
    assert _narrative(report) != _narrative(baseline)
    assert [s.price.score for s in report.signals] == [s.price.score for s in baseline.signals]


def test_top_n_per_asset_bounds_the_questions(monkeypatch, tmp_path, backend, api) -> None:
    monkeypatch.setenv("TB_CLAUDE_TOP_N", "2")
    _cycle(monkeypatch, tmp_path, backend, "top2", api)
    assert api.requests and all(len(_items(body)) <= 2 for body in api.requests)


def _items(body: dict) -> list:
    return json.loads(body["messages"][0]["content"])


def test_a_text_is_asked_about_once_ever(monkeypatch, tmp_path, backend, api) -> None:
    first, _ = _cycle(monkeypatch, tmp_path, backend, "again", api)
    asked = len(api.requests)
    second, _ = _cycle(monkeypatch, tmp_path, backend, "again", api, now=utc(2026, 11, 21, 10, 0))
    assert len(api.requests) == asked  # the stored verdicts answer the second run
    assert _narrative(second) == _narrative(first)


# Each kind of failure is tested on the client in test_claude.py; here the cycle's answer to them.
FAILURES = [
    pytest.param([Fault(status=503), Fault(status=503)], id="503"),  # the client retries once
    pytest.param([Fault(status=429), Fault(status=429)], id="429", marks=pytest.mark.slow),
    pytest.param([Fault(delay=2.0), Fault(delay=2.0)], id="timeout"),
    pytest.param([Fault(text="not json at all")], id="malformed", marks=pytest.mark.slow),
    pytest.param([Fault(reply={"items": [{"id": "h1", "label": "positive", "polarity": 7}]})], id="off-schema"),
]


@pytest.mark.parametrize("faults", FAILURES)
def test_any_failure_degrades_the_run_and_keeps_the_model_scores(monkeypatch, tmp_path, backend, api, baseline,
                                                                faults) -> None:
    api.faults.extend(faults)
    report, sessions = _cycle(monkeypatch, tmp_path, backend, "fault", api)
    assert report.digest.degraded
    [problem] = [p for p in report.digest.problems if p.startswith("Claude cross-check")]
    assert re.search(r"skipped for (\d+) of \1 assets, model scores used: ", problem)
    assert len(api.requests) == len(faults)  # after the first failure the cycle stops asking
    assert _narrative(report) == _narrative(baseline)
    with sessions() as session:
        run = session.scalars(select(Run)).one()
        assert run.status == "degraded" and any(p.startswith("Claude cross-check") for p in run.problems)
        assert session.scalars(select(LlmPolarityRow)).all() == []
    assert KEY not in repr(report.digest) and KEY not in repr(run.problems)


def test_no_key_means_no_request_and_no_record(monkeypatch, tmp_path, backend, api, baseline) -> None:
    report, sessions = _cycle(monkeypatch, tmp_path, backend, "nokey", None)
    assert api.requests == [] and not report.digest.degraded
    assert _narrative(report) == _narrative(baseline)
    with sessions() as session:
        assert session.scalars(select(LlmPolarityRow)).all() == []


def test_a_blank_key_is_a_problem_not_a_crash(monkeypatch, tmp_path, backend) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "   ")
    sessions = open_store(f"sqlite:///{tmp_path / 'blank.db'}")
    polarity = {"abc": Polarity(0.6, 0.1, 0.3)}
    checked = cross_check_polarity(load_settings(), sessions, {}, polarity, "embedded:x", NOW, NOW, run_id=1)
    assert checked.polarity == polarity and checked.checked == 0
    assert [str(p) for p in checked.problems] == ["Claude cross-check: not configured correctly: the Anthropic API key is empty"]
