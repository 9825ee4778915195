"""A headline is scored once, ever: by content hash and model version, across runs and restarts."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import func, select

from pipeline.cycle import model_key, score_headlines
from intelligence.types import Headline, Polarity
from providers.sentiment_models import load_backend
from storage.db import open_store
from storage.models import SentimentRow
from tests.conftest import utc


@dataclass
class Counting:
    """The real embedded backend, counting the texts it is asked to score."""

    version: str
    name: str = "embedded"
    asked: list[str] = field(default_factory=list)

    def score(self, texts: Sequence[str]) -> list[Polarity]:
        self.asked.extend(texts)
        return load_backend("embedded", "unused").backend.score(texts)


def _headlines(embedded_headlines) -> list[Headline]:
    # Two sources carrying the same words are one text to score.
    first = embedded_headlines[0]
    echo = Headline(source="Elsewhere", title=f"  {first.title} ", published=utc(2025, 12, 13), url="https://x/y")
    return [*embedded_headlines[:40], echo]


def test_scored_once_across_runs_and_a_restart(tmp_path, embedded_headlines) -> None:
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    headlines = _headlines(embedded_headlines)
    version = load_backend("embedded", "unused").backend.version
    backend = Counting(version)
    with open_store(url).begin() as session:
        first = score_headlines(session, backend, headlines)
    assert len(backend.asked) == len({h.content_hash for h in headlines}) == 40  # the echo is not asked again

    restarted = Counting(version)  # a new process: new backend object, new engine, same store
    with open_store(url).begin() as session:
        again = score_headlines(session, restarted, headlines)
    assert restarted.asked == [] and again == first
    with open_store(url)() as session:
        assert session.scalar(select(func.count()).select_from(SentimentRow)) == 40
        assert set(session.scalars(select(SentimentRow.model))) == {model_key(backend)}


def test_a_new_model_version_scores_again_and_keeps_the_old_rows(tmp_path, embedded_headlines) -> None:
    url = f"sqlite:///{tmp_path / 'versions.db'}"
    headlines = _headlines(embedded_headlines)[:10]
    with open_store(url).begin() as session:
        score_headlines(session, Counting("v1"), headlines)
    newer = Counting("v2")
    with open_store(url).begin() as session:
        score_headlines(session, newer, headlines)
    assert len(newer.asked) == 10
    with open_store(url)() as session:
        counts = dict(session.execute(select(SentimentRow.model, func.count()).group_by(SentimentRow.model)).all())
    assert counts == {"embedded:v1": 10, "embedded:v2": 10}


def test_only_new_texts_are_scored(tmp_path, embedded_headlines) -> None:
    url = f"sqlite:///{tmp_path / 'grow.db'}"
    backend = Counting("v1")
    with open_store(url).begin() as session:
        score_headlines(session, backend, embedded_headlines[:20])
    backend.asked.clear()
    with open_store(url).begin() as session:
        scores = score_headlines(session, backend, embedded_headlines[:30])
    assert backend.asked == [h.title for h in embedded_headlines[20:30]]
    assert set(scores) == {h.content_hash for h in embedded_headlines[:30]}
