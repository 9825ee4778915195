"""The numpy MiniLM forward pass gives what transformers gives, and refuses malformed weights."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from intelligence.sentiment.encoder import EncoderShape, MiniLmClassifier, gelu

TINY = EncoderShape(layers=2, hidden=32, heads=4, max_tokens=16)


@pytest.fixture(scope="module")
def tiny_bert():
    """A random 2-layer BERT built by transformers itself (eager attention) and its weights as numpy."""
    torch = pytest.importorskip("torch", reason="the reference is the `finbert` extra: pip install -e '.[dev,finbert]'")
    from transformers import BertConfig, BertModel

    torch.manual_seed(3)
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=16, attn_implementation="eager")
    model = BertModel(config, add_pooling_layer=False).eval()
    weights = {name: value.numpy().copy() for name, value in model.state_dict().items()}
    rng = np.random.default_rng(3)
    weights["head.weight"] = rng.normal(size=(3, 32)).astype(np.float32)
    weights["head.bias"] = rng.normal(size=3).astype(np.float32)
    return model, weights


def _reference(model, weights, ids: list[int]) -> np.ndarray:
    import torch

    with torch.inference_mode():
        vector = model(input_ids=torch.tensor([ids])).last_hidden_state[0].mean(dim=0).numpy()
    logits = vector @ weights["head.weight"].T + weights["head.bias"]
    return np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()


def test_matches_transformers_on_texts_of_every_length(tiny_bert) -> None:
    model, weights = tiny_bert
    classifier = MiniLmClassifier(weights, TINY)
    rng = np.random.default_rng(5)
    batch = [list(rng.integers(0, 50, size=n)) for n in (1, 3, 3, 7, 16, 16, 2)]
    got = classifier.probabilities(batch)
    for row, ids in zip(got, batch):
        assert row == pytest.approx(_reference(model, weights, ids), abs=1e-5)
    # Grouping by length does not mix texts up: each alone gives its own row.
    for row, ids in zip(got, batch):
        assert classifier.probabilities([ids])[0] == pytest.approx(row, abs=1e-6)


def test_long_inputs_are_cut_at_max_tokens(tiny_bert) -> None:
    _, weights = tiny_bert
    classifier = MiniLmClassifier(weights, TINY)
    ids = list(range(1, 40))
    assert classifier.probabilities([ids])[0] == pytest.approx(classifier.probabilities([ids[:16]])[0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: w.pop("encoder.layer.1.output.dense.weight"), "encoder.layer.1.output.dense.weight is missing"),
        (lambda w: w.__setitem__("head.weight", np.zeros((2, 32), np.float32)), "head.weight has shape"),
        (lambda w: w.__setitem__("embeddings.LayerNorm.bias", np.full(32, np.nan, np.float32)), "finite"),
        (lambda w: w.__setitem__("encoder.layer.9.extra", np.zeros(3, np.float32)), "unexpected encoder weights"),
    ],
    ids=["missing", "shape", "nan", "extra"],
)
def test_malformed_weights_are_refused_by_name(tiny_bert, change, message) -> None:
    weights = dict(tiny_bert[1])
    change(weights)
    with pytest.raises(ValueError, match=message):
        MiniLmClassifier(weights, TINY)


def test_bad_token_ids_are_refused(tiny_bert) -> None:
    classifier = MiniLmClassifier(tiny_bert[1], TINY)
    for ids in ([], [50], [-1]):
        with pytest.raises(ValueError):
            classifier.probabilities([ids])
    assert classifier.probabilities([]).shape == (0, 3)


@settings(max_examples=200, deadline=None)
@given(st.floats(-12, 12, allow_nan=False))
def test_gelu_is_the_exact_erf_form(x: float) -> None:
    import math

    expected = 0.5 * x * (1 + math.erf(x / math.sqrt(2)))
    assert float(gelu(np.asarray([x]))[0]) == pytest.approx(expected, abs=1e-6)


@pytest.mark.slow
def test_the_shipped_encoder_matches_transformers_on_real_headlines(embedded_headlines) -> None:
    """The shipped MiniLM (base, our top blocks and head), numpy against transformers (~10 s)."""
    import json
    import sys

    pytest.importorskip("transformers", reason="the reference is the `finbert` extra: pip install -e '.[dev,finbert]'")
    from providers.embedded_sentiment import DEFAULT_DIR
    from providers.sentiment_encoder import BASE_FILE, TOKENIZER_FILE, EncoderFiles, load_encoder
    from tests.conftest import REPO

    sys.path.insert(0, str(REPO / "scripts"))
    from sentiment_encoder_training import torch_reference

    meta = json.loads((DEFAULT_DIR / "model.json").read_text())
    blob = (DEFAULT_DIR / "encoder.npz").read_bytes()
    stage = load_encoder(blob, EncoderFiles.from_meta(meta["encoder"]), DEFAULT_DIR)
    texts = [h.title for h in embedded_headlines[:25]]
    weights = {}
    for name in (BASE_FILE, "encoder.npz"):
        with np.load(DEFAULT_DIR / name) as npz:
            weights.update({key: npz[key] for key in npz.files})
    assert np.abs(stage(texts) - torch_reference(texts, weights, DEFAULT_DIR / TOKENIZER_FILE)).max() < 1e-4
