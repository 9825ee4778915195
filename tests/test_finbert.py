"""FinBERT backend and loader, against a tiny real BERT built here (nothing comes from the hub)."""
from __future__ import annotations

import math
import re
import shutil
import socket
from pathlib import Path

import feedparser
import pytest

pytest.importorskip("transformers", reason="FinBERT is the `finbert` extra: pip install -e '.[dev,finbert]'")

from intelligence.sentiment.base import LABELS, SentimentBackend
from intelligence.sentiment.finbert import FinBertSentiment, label_columns
from providers.sentiment_models import LoadedBackend, SentimentLoadError, load_backend

FEEDS = Path(__file__).resolve().parent.parent / "providers" / "embedded" / "feeds"
GOOD_LABELS = {0: "positive", 1: "negative", 2: "neutral"}
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="session")
def headlines() -> list[str]:
    titles = [entry.title for feed in sorted(FEEDS.glob("*.rss")) for entry in feedparser.parse(feed).entries]
    assert len(titles) > 100
    return titles


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, headlines: list[str]) -> Path:
    """A WordPiece vocabulary made of the words of real headlines, laid out like ProsusAI/finbert (vocab.txt)."""
    words = sorted({word for title in headlines for word in re.findall(r"[a-z0-9]+", title.lower())})
    directory = tmp_path_factory.mktemp("vocab")
    (directory / "vocab.txt").write_text("\n".join(SPECIAL_TOKENS + words) + "\n", encoding="utf-8")
    return directory


def save_tiny_bert(directory: Path, tokenizer_dir: Path, id2label: dict[int, str], *, head: bool = True) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

    # from_pretrained on a vocab.txt directory: transformers 5 ignores BertTokenizerFast(vocab_file=...).
    tokenizer = BertTokenizerFast.from_pretrained(str(tokenizer_dir))
    assert tokenizer.unk_token_id not in tokenizer("Bitcoin stablecoin losses")["input_ids"]
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, id2label=id2label, label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(7)
    model = (BertForSequenceClassification if head else BertModel)(config)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, tokenizer_dir: Path) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("finbert"), tokenizer_dir, GOOD_LABELS)


@pytest.fixture(scope="session")
def finbert(model_dir: Path) -> SentimentBackend:
    return load_backend("finbert", str(model_dir)).backend


@pytest.fixture(scope="session")
def model_and_tokenizer(model_dir: Path) -> tuple:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), local_files_only=True)
    return model, AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fails and records any attempt to open a connection or resolve a name."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # belt and braces; the library read it at import time
    # ... so switch the library's own flag off: the loader must stay off the network by itself.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def assert_probabilities(polarities: list, count: int) -> None:
    assert len(polarities) == count
    for p in polarities:
        values = (p.positive, p.negative, p.neutral)
        assert all(0.0 <= v <= 1.0 for v in values)
        assert math.isclose(sum(values), 1.0, abs_tol=1e-5)
        assert p.label in LABELS


# --- scoring -------------------------------------------------------------------------------------


def test_finbert_mode_loads_the_directory_and_scores_probabilities(model_dir: Path, headlines: list[str]) -> None:
    loaded = load_backend("finbert", str(model_dir))
    assert isinstance(loaded, LoadedBackend)
    assert isinstance(loaded.backend, SentimentBackend)
    assert loaded.backend.name == "finbert"
    assert loaded.problems == ()
    assert str(model_dir) in loaded.note
    assert_probabilities(loaded.backend.score(headlines), len(headlines))


def test_bucketed_batches_score_like_one_at_a_time(finbert: SentimentBackend, headlines: list[str]) -> None:
    long_text = " ".join(headlines[:30])  # longer than the truncation limit
    texts = headlines[:45] + [long_text, "", headlines[0]]
    together = finbert.score(texts)
    alone = [finbert.score([text])[0] for text in texts]
    for a, b in zip(together, alone, strict=True):
        assert (a.positive, a.negative, a.neutral) == pytest.approx((b.positive, b.negative, b.neutral), abs=1e-5)
    assert len({round(p.score, 6) for p in together}) > 20  # texts differ, so a mix-up would show
    assert together[-1].score == pytest.approx(together[0].score, abs=1e-5)
    assert finbert.score([]) == []


def test_small_batches_and_reversed_input_keep_each_text_its_score(model_and_tokenizer, headlines) -> None:
    model, tokenizer = model_and_tokenizer
    tiny_batches = FinBertSentiment(model, tokenizer, batch_size=3)
    texts = headlines[:20]
    forward = tiny_batches.score(texts)
    backward = tiny_batches.score(texts[::-1])[::-1]
    for a, b in zip(forward, backward, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-5)


def test_the_hub_layout_of_finbert_loads_too(tmp_path: Path, model_dir: Path, tokenizer_dir: Path, finbert, headlines):
    # ProsusAI/finbert ships vocab.txt, not tokenizer.json: the tokenizer is built from the vocabulary.
    for name in ("config.json", "model.safetensors"):
        shutil.copy(model_dir / name, tmp_path / name)
    shutil.copy(tokenizer_dir / "vocab.txt", tmp_path / "vocab.txt")
    scores = load_backend("finbert", str(tmp_path)).backend.score(headlines[:10])
    assert [p.score for p in scores] == pytest.approx([p.score for p in finbert.score(headlines[:10])], abs=1e-5)


def test_the_model_is_loaded_once_per_process(model_dir: Path, finbert: SentimentBackend) -> None:
    assert load_backend("finbert", str(model_dir)).backend is finbert
    assert load_backend("auto", str(model_dir)).backend is finbert


def test_version_names_the_model_and_what_it_was_loaded_from(model_dir: Path, finbert, model_and_tokenizer) -> None:
    assert finbert.version.startswith(f"{model_dir}@dir-")
    model, tokenizer = model_and_tokenizer
    pinned = FinBertSentiment(model, tokenizer, model_id="org/model", revision=COMMIT)
    assert pinned.version.startswith(f"org/model@{COMMIT};")
    unpinned = FinBertSentiment(model, tokenizer, model_id="org/model")
    assert unpinned.version.startswith("org/model@config-")
    assert FinBertSentiment(model, tokenizer, model_id="org/model").version == unpinned.version
    assert FinBertSentiment(model, tokenizer, model_id="org/model", max_length=16).version != unpinned.version


# --- labels --------------------------------------------------------------------------------------


def test_labels_match_by_name_whatever_their_case_or_order() -> None:
    assert label_columns({0: "Neutral", 1: "POSITIVE", 2: "negative"}) == (1, 2, 0)


def test_generic_labels_need_an_explicit_mapping() -> None:
    generic = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    with pytest.raises(ValueError, match="label_map"):
        label_columns(generic)
    mapping = {"label_0": "negative", "LABEL_1": "neutral", "LABEL_2": "Positive"}
    assert label_columns(generic, mapping) == (2, 0, 1)


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "a", 1: "b", 2: "c"},
        {0: "positive", 1: "negative"},
        {0: "positive", 1: "negative", 2: "neutral", 3: "mixed"},
        {0: "positive", 1: "positive", 2: "neutral"},
    ],
)
def test_labels_that_do_not_cover_the_three_are_refused(id2label: dict[int, str]) -> None:
    with pytest.raises(ValueError, match="positive/negative/neutral"):
        label_columns(id2label)


# --- the loader: auto, fallbacks, errors ---------------------------------------------------------


def test_auto_picks_finbert_when_the_directory_exists(model_dir: Path, no_network: list) -> None:
    loaded = load_backend("auto", str(model_dir))
    assert loaded.backend.name == "finbert"
    assert loaded.problems == ()
    assert no_network == []


def test_auto_finds_weights_in_the_hub_cache_without_the_network(
    tmp_path: Path, tokenizer_dir: Path, no_network: list, monkeypatch: pytest.MonkeyPatch, headlines: list[str]
) -> None:
    import huggingface_hub.constants

    repo = tmp_path / "hub" / "models--test-org--tiny-finbert"
    save_tiny_bert(repo / "snapshots" / COMMIT, tokenizer_dir, GOOD_LABELS)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))

    loaded = load_backend("auto", "test-org/tiny-finbert")
    assert loaded.backend.name == "finbert"
    assert loaded.backend.version.startswith(f"test-org/tiny-finbert@{COMMIT};")
    assert_probabilities(loaded.backend.score(headlines[:5]), 5)
    assert no_network == []


@pytest.mark.parametrize("model_id", ["no-such-org/no-such-model", "/nonexistent/dir"])
def test_auto_falls_back_to_embedded_without_weights_or_the_network(model_id: str, no_network: list) -> None:
    loaded = load_backend("auto", model_id)
    assert loaded.backend.name == "embedded"
    assert loaded.note == f"FinBERT weights for {model_id} are not available locally; using the embedded model"
    assert loaded.problems == ()
    assert no_network == []


def test_finbert_mode_with_a_missing_directory_says_so(no_network: list) -> None:
    with pytest.raises(SentimentLoadError, match=r"'/nonexistent/dir'.*no such directory"):
        load_backend("finbert", "/nonexistent/dir")
    assert no_network == []


def test_finbert_mode_without_weights_says_what_to_run_at_once_and_never_asks_the_hub(
    tmp_path: Path, no_network: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    with pytest.raises(SentimentLoadError) as caught:
        load_backend("finbert", "ProsusAI/finbert")
    message = str(caught.value)
    assert message == ("cannot load FinBERT model 'ProsusAI/finbert': its weights are not on this machine; "
                       "fetch them once with `hf download ProsusAI/finbert` (or point TB_FINBERT_MODEL at a local directory)")
    assert no_network == []  # no retry storm: nothing was even attempted


@pytest.fixture(scope="session")
def wrong_labels_dir(tmp_path_factory: pytest.TempPathFactory, tokenizer_dir: Path) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("wrong-labels"), tokenizer_dir, {0: "a", 1: "b", 2: "c"})


@pytest.fixture(scope="session")
def corrupt_dir(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    target = tmp_path_factory.mktemp("corrupt") / "model"
    shutil.copytree(model_dir, target)
    (target / "model.safetensors").write_bytes((model_dir / "model.safetensors").read_bytes()[:500])
    return target


@pytest.fixture(scope="session")
def headless_dir(tmp_path_factory: pytest.TempPathFactory, tokenizer_dir: Path) -> Path:
    """A bare encoder: loading it as a classifier would leave the head random."""
    return save_tiny_bert(tmp_path_factory.mktemp("headless"), tokenizer_dir, GOOD_LABELS, head=False)


BROKEN = [
    ("wrong_labels_dir", "positive/negative/neutral"),
    ("corrupt_dir", "header|deserializ|safetensors"),
    ("headless_dir", "lacks trained weights for classifier"),
]


@pytest.mark.parametrize(("fixture", "cause"), BROKEN)
def test_finbert_mode_refuses_a_broken_model(request: pytest.FixtureRequest, fixture: str, cause: str) -> None:
    directory = request.getfixturevalue(fixture)
    with pytest.raises(SentimentLoadError) as caught:
        load_backend("finbert", str(directory))
    message = str(caught.value)
    assert str(directory) in message
    assert re.search(cause, message, re.IGNORECASE)
    assert "\n" not in message


@pytest.mark.parametrize(("fixture", "cause"), BROKEN)
def test_auto_falls_back_and_reports_a_broken_model(request: pytest.FixtureRequest, fixture: str, cause: str) -> None:
    directory = request.getfixturevalue(fixture)
    loaded = load_backend("auto", str(directory))
    assert loaded.backend.name == "embedded"
    assert "using the embedded model" in loaded.note
    assert len(loaded.problems) == 1
    assert str(directory) in loaded.problems[0].message
    assert re.search(cause, loaded.problems[0].message, re.IGNORECASE)


def test_embedded_choice_gives_the_embedded_backend() -> None:
    loaded = load_backend("embedded", "ProsusAI/finbert")
    assert loaded.backend.name == "embedded"
    assert loaded.problems == ()


def test_an_unknown_choice_names_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="auto, finbert, embedded"):
        load_backend("finbrt", "ProsusAI/finbert")


def test_texts_without_words_are_exactly_neutral_and_skip_the_model(finbert: SentimentBackend, headlines) -> None:
    scores = finbert.score(["", "   \t", headlines[0]])
    assert [(p.positive, p.negative, p.neutral) for p in scores[:2]] == [(0.0, 0.0, 1.0)] * 2
    assert scores[2].score == pytest.approx(finbert.score([headlines[0]])[0].score, abs=1e-6)
    assert finbert.score(["", " "]) == finbert.score(["\n", ""])


def test_score_rejects_a_bare_string(finbert: SentimentBackend) -> None:
    with pytest.raises(TypeError):
        finbert.score("Bitcoin rallies")  # type: ignore[arg-type]


# --- one tokenisation per call, and the opt-in int8 model (TB_FINBERT_QUANTIZE) -------------------


class CountingTokenizer:
    """The real tokenizer, counting how often texts are encoded (padding ready encodings is not encoding)."""

    def __init__(self, tokenizer) -> None:
        self._tokenizer = tokenizer
        self.encodings = 0

    def __call__(self, *args, **kwargs):
        self.encodings += 1
        return self._tokenizer(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._tokenizer, name)


def test_each_text_is_tokenised_once_however_many_batches(model_and_tokenizer, headlines: list[str]) -> None:
    model, tokenizer = model_and_tokenizer
    counting = CountingTokenizer(tokenizer)
    scores = FinBertSentiment(model, counting, batch_size=4).score(headlines[:30])
    assert counting.encodings == 1
    reference = FinBertSentiment(model, tokenizer, batch_size=30).score(headlines[:30])
    assert [p.score for p in scores] == pytest.approx([p.score for p in reference], abs=1e-5)


@pytest.fixture(scope="session")
def finbert_int8(model_dir: Path) -> LoadedBackend:
    return load_backend("finbert", str(model_dir), quantize=True)


def test_int8_is_a_model_of_its_own_in_the_cache_key_and_the_note(finbert_int8, finbert, model_dir: Path) -> None:
    assert finbert_int8.backend is not finbert
    assert finbert_int8.backend.version == finbert.version + ";int8"
    assert finbert_int8.note == f"FinBERT ({model_dir}, int8)"
    assert load_backend("auto", str(model_dir), quantize=True).backend is finbert_int8.backend
    assert load_backend("finbert", str(model_dir)).backend is finbert  # the fp32 model is untouched


def test_int8_scores_are_probabilities_close_to_fp32(finbert_int8, finbert, headlines: list[str]) -> None:
    quantized = finbert_int8.backend.score(headlines)
    assert_probabilities(quantized, len(headlines))
    reference = finbert.score(headlines)
    drift = max(abs(a.score - b.score) for a, b in zip(quantized, reference, strict=True))
    assert 0 < drift < 0.05  # rounded weights move scores a little, never wholesale


def test_quantize_int8_replaces_every_linear_layer(model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification

    from intelligence.sentiment.finbert import is_int8, quantize_int8

    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), local_files_only=True)
    assert not is_int8(model)
    quantized = quantize_int8(model)
    assert is_int8(quantized)
    assert not any(type(m) is torch.nn.Linear for m in quantized.modules())


def test_quantize_with_the_embedded_backend_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import ConfigError, load_settings

    monkeypatch.setenv("TB_SENTIMENT_BACKEND", "embedded")
    monkeypatch.setenv("TB_FINBERT_QUANTIZE", "true")
    with pytest.raises(ConfigError, match="TB_FINBERT_QUANTIZE.*embedded runs no FinBERT"):
        load_settings()
    monkeypatch.setenv("TB_FINBERT_QUANTIZE", "sometimes")
    with pytest.raises(ConfigError, match="TB_FINBERT_QUANTIZE"):
        load_settings()
    monkeypatch.setenv("TB_SENTIMENT_BACKEND", "auto")
    monkeypatch.setenv("TB_FINBERT_QUANTIZE", "true")
    assert load_settings().finbert_quantize is True
