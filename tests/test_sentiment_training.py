"""The training script's pieces for v3: the teacher's labels as read, the stack's rule scale and the neutral offset."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from train_embedded_sentiment import (  # noqa: E402
    NEUTRAL_OFFSET_MAX, NEUTRAL_OFFSET_STEP, choose_stack, prior_matching_offset, read_teacher,
)

from intelligence.sentiment.base import LABELS  # noqa: E402


def _teacher(tmp_path: Path, corpus: list[str], probabilities: np.ndarray) -> Path:
    path = tmp_path / "teacher_labels.npz"
    np.savez_compressed(path, corpus=np.asarray(corpus), corpus_probabilities=probabilities.astype(np.float32))
    return path


def test_teacher_headlines_that_are_also_evaluation_texts_are_dropped(tmp_path: Path) -> None:
    corpus = ["Apple shares rise after earnings beat", "Oil slips as stockpiles grow", "Fed holds rates steady"]
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.7, 0.2], [0.1, 0.1, 0.8]])
    texts, soft = read_teacher(_teacher(tmp_path, corpus, probabilities), ["oil  slips as STOCKPILES grow"])
    assert texts == [corpus[0], corpus[2]]
    np.testing.assert_allclose(soft, probabilities[[0, 2]], rtol=1e-6)


def test_teacher_labels_of_the_wrong_shape_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="one row of 3 probabilities"):
        read_teacher(_teacher(tmp_path, ["a headline", "another one"], np.full((2, 2), 0.5)), [])


NEUTRAL = LABELS.index("neutral")


def _neutral_share(logits: np.ndarray, offset: float) -> float:
    shifted = logits.copy()
    shifted[:, NEUTRAL] -= offset
    return float(np.mean(shifted.argmax(axis=1) == NEUTRAL))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.just(len(LABELS))), elements=st.floats(-6, 6)),
       st.floats(0.0, 1.0))
def test_the_neutral_offset_is_the_smallest_that_brings_the_neutral_share_down_to_the_prior(
        logits: np.ndarray, share: float) -> None:
    offset = prior_matching_offset(logits, share)
    assert 0.0 <= offset <= NEUTRAL_OFFSET_MAX
    if offset < NEUTRAL_OFFSET_MAX:
        assert _neutral_share(logits, offset) <= share
    if offset > 0.0:
        assert _neutral_share(logits, offset - NEUTRAL_OFFSET_STEP) > share


def test_headlines_already_as_polar_as_the_tweets_keep_their_neutral_logit() -> None:
    logits = np.array([[2.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 0.0, 1.0]])
    assert prior_matching_offset(logits, 0.4) == 0.0


def test_a_model_that_calls_every_headline_neutral_is_moved_off_neutral() -> None:
    logits = np.array([[1.0, 0.0, 1.5]] * 5 + [[0.0, 1.0, 1.81]] * 5 + [[0.0, 0.0, 3.0]] * 10)
    offset = prior_matching_offset(logits, 0.5)
    assert offset == pytest.approx(0.82)  # the first step past the 0.81 nats the negative rows need
    assert _neutral_share(logits, offset) == 0.5


def _stack_rows(rule_points_right: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stack inputs that call a quarter of the positive rows neutral, and one rule that fires on exactly those rows
    (or, when it points the wrong way, on as many negative rows), with an offset that says positive."""
    rng = np.random.default_rng(11)
    labels = rng.integers(0, len(LABELS), 400)
    z = np.log(np.full((400, len(LABELS)), 0.1))
    z[np.arange(400), labels] = np.log(0.8)
    positive = np.flatnonzero(labels == LABELS.index("positive"))
    missed = positive[: len(positive) // 4]
    z[missed] = np.log([0.1, 0.1, 0.8])
    fired = np.zeros((400, 1))
    fired[missed if rule_points_right else np.flatnonzero(labels == LABELS.index("negative"))[: len(missed)]] = 1.0
    offsets = np.array([[3.0, -1.5, -1.5]])
    return np.hstack([z, z]), fired, offsets, labels


def test_the_stack_keeps_a_rule_that_sees_what_the_models_miss() -> None:
    _, scale = choose_stack(*_stack_rows(rule_points_right=True))
    assert scale > 0.0


def test_the_stack_drops_a_rule_that_points_the_wrong_way() -> None:
    _, scale = choose_stack(*_stack_rows(rule_points_right=False))
    assert scale == 0.0
