"""The training script's pieces for v3: the teacher's labels as read, and the neutral offset's choice."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from train_embedded_sentiment import NEUTRAL_OFFSETS, choose_neutral_offset, read_teacher  # noqa: E402

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


def test_a_stack_that_already_separates_the_classes_keeps_its_neutral_logit() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, len(LABELS), 300)
    z = np.eye(len(LABELS))[labels].repeat(2, axis=1) * 4.0 + rng.normal(0, 0.3, (300, 6))
    offset = choose_neutral_offset(z, np.zeros((300, 3)), labels, "none")
    assert offset == NEUTRAL_OFFSETS[0] == 0.0  # every offset ties at perfect macro-F1: the smallest wins
