"""The embedded sentiment backend: the shipped model, its loader and its edge cases."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from intelligence.sentiment.base import LABELS, SentimentBackend
from intelligence.sentiment.embedded import EmbeddedSentiment, FeatureConfig, text_buckets
from providers.embedded_sentiment import DEFAULT_DIR, SentimentModelError, load_embedded_backend

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "sent_valid_sample.csv"
NEWS = DATA / "news_sentences_check.csv"
DATASET_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}
# Shipped model, measured: 0.877 on the tweet sample (0.870 on its every 4th row; 0.860 on all of
# sent_valid) and 0.771 on the news check set (0.746 on its every 3rd row). The first version
# (n-grams alone) had 0.869 and 0.69; always "neutral" gives about 0.65 and 0.53.
MIN_SAMPLE_ACCURACY = 0.85
MIN_NEWS_ACCURACY = 0.74
MIN_SLICE_ACCURACY = {"tweets": 0.83, "news": 0.70}


@pytest.fixture(scope="module")
def backend() -> EmbeddedSentiment:
    return load_embedded_backend()


def _read(path: Path, mapping: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [mapping[r["label"]] if mapping else r["label"] for r in rows]


@pytest.fixture(scope="module")
def sample() -> tuple[list[str], list[str]]:
    return _read(SAMPLE, DATASET_LABELS)


def _accuracy(backend: EmbeddedSentiment, texts: list[str], truth: list[str]) -> tuple[float, set[str]]:
    predicted = [p.label for p in backend.score(texts)]
    return float(np.mean([p == t for p, t in zip(predicted, truth)])), set(predicted)


def _assert_distribution(p) -> None:
    values = (p.positive, p.negative, p.neutral)
    assert all(0.0 <= v <= 1.0 for v in values)
    assert sum(values) == pytest.approx(1.0, abs=1e-9)


def test_it_is_a_sentiment_backend_with_a_content_version(backend: EmbeddedSentiment) -> None:
    assert isinstance(backend, SentimentBackend)
    assert backend.name == "embedded"
    assert backend.version.startswith("tb-embedded-sentiment-3+")
    assert len(backend.version.rsplit("+", 1)[1]) == 12


@pytest.mark.parametrize(("name", "path", "mapping", "step"), [("tweets", SAMPLE, DATASET_LABELS, 4), ("news", NEWS, None, 3)])
def test_accuracy_on_a_slice_of_real_text(backend: EmbeddedSentiment, name, path, mapping, step) -> None:
    texts, truth = _read(path, mapping)
    accuracy, predicted = _accuracy(backend, texts[::step], truth[::step])
    assert accuracy >= MIN_SLICE_ACCURACY[name], f"{name}: accuracy {accuracy:.3f}"
    assert predicted == set(LABELS)  # a model stuck on the majority class fails here


@pytest.mark.slow
def test_accuracy_on_real_financial_tweets(backend: EmbeddedSentiment, sample) -> None:
    accuracy, _ = _accuracy(backend, *sample)
    assert accuracy >= MIN_SAMPLE_ACCURACY, f"accuracy {accuracy:.3f} on {len(sample[0])} rows"


@pytest.mark.slow
def test_accuracy_on_the_hand_labelled_news_check_set(backend: EmbeddedSentiment) -> None:
    accuracy, _ = _accuracy(backend, *_read(NEWS))
    assert accuracy >= MIN_NEWS_ACCURACY, f"accuracy {accuracy:.3f}"


def test_probabilities_are_distributions(backend: EmbeddedSentiment, sample) -> None:
    for p in backend.score(sample[0][:100]):
        _assert_distribution(p)


def test_batch_scoring_equals_one_by_one_bit_for_bit(backend: EmbeddedSentiment, sample) -> None:
    texts = sample[0][:30] + ["", "Bitcoin plunges as exchange hack wipes out billions"]
    assert backend.score(texts) == [backend.score([t])[0] for t in texts]
    assert backend.score([]) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_text_scores_the_same_whatever_is_scored_with_it(backend: EmbeddedSentiment, sample, data) -> None:
    """Padding, grouping by length and BLAS blocking must not leak across texts: a replay that sees
    fewer headlines (everything after t removed) must give every earlier headline the same bytes."""
    pool = sample[0][:120] + _read(NEWS)[0][::4]
    text = data.draw(st.sampled_from(pool) | st.text(max_size=60), label="text")
    others = data.draw(st.lists(st.sampled_from(pool) | st.text(max_size=60), max_size=12), label="others")
    where = data.draw(st.integers(0, len(others)), label="position")
    (alone,) = backend.score([text])
    assert backend.score(others[:where] + [text] + others[where:])[where] == alone


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
        # Real headlines from ../shared/data/replay, in the grammar the rules read ("loss narrowed",
        # "cuts jobs", "beats forecasts"): what an owner would call good, bad or neither.
        ("Insurer AIG's quarterly loss narrows on reinsurance benefit", "positive"),
        ("Airbus to scrap A380 superjumbo production as sales slump", "negative"),
        ("ABC and parks boost Disney profit above forecasts", "positive"),
        ("Airbus wins China order for 300 jets as Xi visits France", "positive"),
        ("AT&T to cut jobs in weaker business units", "negative"),
        ("Snap names Lara Sweet as interim CFO", "neutral"),
    ],
)
def test_news_sentences(backend: EmbeddedSentiment, text: str, label: str) -> None:
    assert backend.score([text])[0].label == label


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


def test_version_changes_with_the_encoder(backend: EmbeddedSentiment, tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    with np.load(model_dir / "encoder.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["head.bias"] = arrays["head.bias"] + np.float16(0.25)
    np.savez_compressed(model_dir / "encoder.npz", **arrays)
    assert load_embedded_backend(model_dir).version != backend.version


def _edit_meta(model_dir: Path, edit) -> None:
    meta = json.loads((model_dir / "model.json").read_text())
    edit(meta)
    (model_dir / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["encoder"].__setitem__("base_sha256", "0" * 64), "is not the file the embedded sentiment model was trained on"),
        (lambda m: m["encoder"].__setitem__("tokenizer_sha256", "0" * 64), "tokenizer.json is not the file"),
        (lambda m: m["stack"].__setitem__("rules_version", "fin-rules-0.0000000000"), "retrain with scripts/train_embedded_sentiment.py"),
        (lambda m: m["stack"].__setitem__("inputs", ["x"]), "unknown stack inputs"),
    ],
    ids=["other-base-weights", "other-tokenizer", "other-rules", "other-stack-inputs"],
)
def test_a_model_that_does_not_fit_this_code_or_base_is_refused(tmp_path: Path, edit, message: str) -> None:
    model_dir = _copy_model(tmp_path)
    _edit_meta(model_dir, edit)
    with pytest.raises(SentimentModelError, match=message) as caught:
        load_embedded_backend(model_dir)
    assert str(model_dir) in str(caught.value)


@pytest.mark.parametrize("name", ["minilm_base.npz", "tokenizer.json"])
def test_a_missing_or_altered_base_file_is_named(tmp_path: Path, name: str) -> None:
    model_dir = _copy_model(tmp_path)
    (model_dir / name).write_bytes((model_dir / name).read_bytes()[:-1] + b"x")
    with pytest.raises(SentimentModelError, match=f"{model_dir / name} is not the file"):
        load_embedded_backend(model_dir)
    (model_dir / name).unlink()
    with pytest.raises(SentimentModelError, match=f"cannot read {model_dir / name}"):
        load_embedded_backend(model_dir)


@pytest.mark.parametrize(
    ("file", "content"),
    [
        ("model.npz", b"this is not a numpy archive"),
        ("model.npz", None),  # truncated below
        ("model.json", b"{not json"),
        ("model.json", b'{"version": "x", "features": {"hash_bits": 18}}'),
        ("encoder.npz", b"not an archive either"),
        ("encoder.npz", b""),
    ],
    ids=["npz-garbage", "npz-truncated", "json-garbage", "json-incomplete", "encoder-garbage", "encoder-empty"],
)
def test_corrupt_model_raises_a_clear_error(tmp_path: Path, file: str, content: bytes | None) -> None:
    model_dir = _copy_model(tmp_path)
    target = model_dir / file
    target.write_bytes(content if content is not None else target.read_bytes()[:5000])
    with pytest.raises(SentimentModelError, match=str(model_dir)):
        load_embedded_backend(model_dir)


def test_wrong_array_shape_raises_a_clear_error(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    with np.load(model_dir / "model.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez_compressed(model_dir / "model.npz", **{**arrays, "idf": np.ones(4), "weights": np.ones((4, 3))})
    with pytest.raises(SentimentModelError, match="must have shape"):
        load_embedded_backend(model_dir)


def test_a_missing_encoder_file_is_named(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    (model_dir / "encoder.npz").unlink()
    with pytest.raises(SentimentModelError, match=f"cannot read embedded sentiment weights {model_dir / 'encoder.npz'}"):
        load_embedded_backend(model_dir)


def test_missing_model_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SentimentModelError, match=str(tmp_path / "nowhere")):
        load_embedded_backend(tmp_path / "nowhere")
    assert issubclass(SentimentModelError, ValueError)
