"""The embedded sentiment backend: the shipped model, its loader and its edge cases."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from intelligence.sentiment.base import LABELS, SentimentBackend
from intelligence.sentiment.embedded import EmbeddedSentiment, FeatureConfig, text_buckets
from providers.embedded_sentiment import DEFAULT_DIR, SentimentModelError, load_embedded_backend

SAMPLE = Path(__file__).resolve().parent / "data" / "sent_valid_sample.csv"
DATASET_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}
# Measured 0.869 on this sample with the shipped model (0.853 on all of sent_valid); a broken
# featuriser or random weights land near 0.65 (always "neutral") or far below.
MIN_SAMPLE_ACCURACY = 0.84


@pytest.fixture(scope="module")
def backend() -> EmbeddedSentiment:
    return load_embedded_backend()


@pytest.fixture(scope="module")
def sample() -> tuple[list[str], list[str]]:
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [DATASET_LABELS[r["label"]] for r in rows]


def _assert_distribution(p) -> None:
    values = (p.positive, p.negative, p.neutral)
    assert all(0.0 <= v <= 1.0 for v in values)
    assert sum(values) == pytest.approx(1.0, abs=1e-9)


def test_it_is_a_sentiment_backend_with_a_content_version(backend: EmbeddedSentiment) -> None:
    assert isinstance(backend, SentimentBackend)
    assert backend.name == "embedded"
    assert backend.version.startswith("tb-embedded-sentiment-")
    assert len(backend.version.rsplit("+", 1)[1]) == 12


def test_accuracy_on_real_financial_tweets(backend: EmbeddedSentiment, sample) -> None:
    texts, truth = sample
    predicted = [p.label for p in backend.score(texts)]
    accuracy = np.mean([p == t for p, t in zip(predicted, truth)])
    assert accuracy >= MIN_SAMPLE_ACCURACY, f"accuracy {accuracy:.3f} on {len(texts)} rows"
    # Every class is predicted somewhere: a model stuck on the majority class fails here.
    assert set(predicted) == set(LABELS)


def test_probabilities_are_distributions(backend: EmbeddedSentiment, sample) -> None:
    for p in backend.score(sample[0][:100]):
        _assert_distribution(p)


def test_batch_scoring_equals_one_by_one(backend: EmbeddedSentiment, sample) -> None:
    texts = sample[0][:40] + ["", "Bitcoin plunges as exchange hack wipes out billions"]
    assert backend.score(texts) == [backend.score([t])[0] for t in texts]
    assert backend.score([]) == []


@pytest.mark.parametrize("text", ["", "   \t\n ", "!!! ... ???", "🚀🚀🚀"])
def test_text_without_words_is_exactly_neutral(backend: EmbeddedSentiment, text: str) -> None:
    (p,) = backend.score([text])
    assert (p.positive, p.negative, p.neutral) == (0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    "text",
    [
        "Edited Transcript of ABEO earnings conference call or presentation 13-Nov-19 3:00pm GMT " * 2000,
        "日本銀行は金融政策決定会合で政策金利の据え置きを決めた",
        "Ärzte, Zürich und São Paulo: Société Générale publie ses résultats trimestriels",
    ],
    ids=["very-long", "japanese", "accented"],
)
def test_unusual_text_is_scored_neutral_ish(backend: EmbeddedSentiment, text: str) -> None:
    (p,) = backend.score([text])
    _assert_distribution(p)
    assert p.label == "neutral"


def test_typographic_quotes_read_like_plain_ones(backend: EmbeddedSentiment) -> None:
    assert backend.score(["Bitcoin\u2019s \u201crally\u201d stalls"]) == backend.score(["Bitcoin's \"rally\" stalls"])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Real headlines from the embedded feeds (providers/embedded/feeds) and sent_valid.
        ("Bitcoin plunges as exchange hack wipes out billions", "negative"),
        ("Bitcoin Plunges Below $90K as AI Worries Drag Nasdaq, Crypto Stocks Down", "negative"),
        ("Hedera Tumbles 4% as Altcoins Continue to Suffer", "negative"),
        ("DOT Sinks 2% After Breaking Key Support", "negative"),
        ("$SAN: Deutsche Bank cuts to Hold", "negative"),
        ("CoinDesk 20 Performance Update: SUI Gains 5.2%, Leading the Index Higher", "positive"),
        ("Bitcoin bounces on Fed rate cut with bigger rally ahead predicted", "positive"),
        ("Coinbase to unveil prediction markets and tokenized equities next week: Bloomberg", "neutral"),
        ("Most Influential: Tom Lee", "neutral"),
    ],
)
def test_obvious_headlines(backend: EmbeddedSentiment, text: str, label: str) -> None:
    assert backend.score([text])[0].label == label


def test_score_rejects_a_bare_string(backend: EmbeddedSentiment) -> None:
    with pytest.raises(TypeError):
        backend.score("Bitcoin rallies")  # type: ignore[arg-type]


def test_features_use_a_stable_hash() -> None:
    # crc32, not the per-process salted hash(): the shipped weights depend on these ids.
    assert text_buckets("Stocks rally", FeatureConfig(char_ngrams=(0, 0))) == [142059, 143731, 49787]


def _copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def test_version_changes_with_the_weights(backend: EmbeddedSentiment, tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    with np.load(model_dir / "model.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["bias"] = arrays["bias"] + np.float32(0.5)
    np.savez_compressed(model_dir / "model.npz", **arrays)
    assert load_embedded_backend(model_dir).version != backend.version
    assert load_embedded_backend(_copy_model(tmp_path / "again")).version == backend.version


@pytest.mark.parametrize(
    ("file", "content"),
    [
        ("model.npz", b"this is not a numpy archive"),
        ("model.npz", None),  # truncated below
        ("model.json", b"{not json"),
        ("model.json", b'{"version": "x", "features": {"hash_bits": 18}}'),
    ],
    ids=["npz-garbage", "npz-truncated", "json-garbage", "json-incomplete"],
)
def test_corrupt_model_raises_a_clear_error(tmp_path: Path, file: str, content: bytes | None) -> None:
    model_dir = _copy_model(tmp_path)
    target = model_dir / file
    target.write_bytes(content if content is not None else target.read_bytes()[:5000])
    with pytest.raises(SentimentModelError, match=str(model_dir)):
        load_embedded_backend(model_dir)


def test_wrong_array_shape_raises_a_clear_error(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    np.savez_compressed(model_dir / "model.npz", idf=np.ones(4), weights=np.ones((4, 3)), bias=np.zeros(3))
    with pytest.raises(SentimentModelError, match="must have shape"):
        load_embedded_backend(model_dir)


def test_missing_model_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SentimentModelError, match=str(tmp_path / "nowhere")):
        load_embedded_backend(tmp_path / "nowhere")
    assert issubclass(SentimentModelError, ValueError)
