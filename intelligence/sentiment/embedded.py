"""The embedded sentiment model: hashed n-gram logistic regression, then a stack over it and the rules.

Pure: no file, no clock. The loader (providers/embedded_sentiment.py) reads the arrays and
the training script (scripts/train_embedded_sentiment.py) fits them, both through the
featurisation defined here, so training and scoring cannot drift apart.
"""
from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from intelligence.sentiment import rules
from intelligence.sentiment.base import LABELS
from intelligence.sentiment.encoder import rowwise_product
from intelligence.types import Polarity

NEUTRAL = Polarity(positive=0.0, negative=0.0, neutral=1.0)
# How scores are computed from the weights, beyond the files: part of the version (the score cache key).
# 2: every product row by row, so a text's score is bit for bit independent of its batch.
SCORING_VERSION = 2


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that decides which features a text gets; stored beside the weights."""

    hash_bits: int = 18  # 2**18 buckets: few harmful collisions, weights still a few MB
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)  # (0, 0) turns character n-grams off
    max_chars: int = 1000  # headlines are short; bounds the cost of a pasted article

    def __post_init__(self) -> None:
        if not 10 <= self.hash_bits <= 24:
            raise ValueError(f"hash_bits must be in [10, 24], got {self.hash_bits}")
        for name in ("word_ngrams", "char_ngrams"):
            lo, hi = getattr(self, name)
            if lo > hi or lo < 0 or (lo == 0) != (hi == 0):
                raise ValueError(f"{name} must be (lo, hi) with 1 <= lo <= hi or (0, 0)")
        if self.max_chars < 1:
            raise ValueError(f"max_chars must be positive, got {self.max_chars}")

    @property
    def n_features(self) -> int:
        return 1 << self.hash_bits

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FeatureConfig:
        known = {f.name for f in fields(cls)}
        if set(raw) != known:
            raise ValueError(f"feature config keys {sorted(raw)} differ from {sorted(known)}")
        return cls(
            hash_bits=int(raw["hash_bits"]),
            word_ngrams=(int(raw["word_ngrams"][0]), int(raw["word_ngrams"][1])),
            char_ngrams=(int(raw["char_ngrams"][0]), int(raw["char_ngrams"][1])),
            max_chars=int(raw["max_chars"]),
        )


# Order matters: URLs before cashtags (query strings hold "$"), money before plain numbers.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": " "})
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:https?://|www\.)\S*", re.I), " "),
    (re.compile(r"\$[a-z][a-z.]{0,9}\b", re.I), " _ticker_ "),
    (re.compile(r"@\w+"), " _user_ "),
    (re.compile(r"(?:^|(?<=[\s(]))\+\d[\d,.]*\s?%"), " _pctup_ "),
    (re.compile(r"(?:^|(?<=[\s(]))-\d[\d,.]*\s?%"), " _pctdown_ "),
    (re.compile(r"\d[\d,.]*\s?%"), " _pct_ "),
    (re.compile(r"[$€£¥]\s?\d[\d,.]*\s?(?:[kmbt]n?\b|(?:thousand|million|billion|trillion)\b)?", re.I),
     " _money_ "),
    # Trailing letters go with the number: "3rd", "7:00am", "2020s", "10x".
    (re.compile(r"\d[\d,.:]*[a-z]*", re.I), " _num_ "),
)
_TOKEN = re.compile(r"\w+(?:'\w+)?")


def normalize(text: str, max_chars: int) -> str:
    """Lowercased text with URLs dropped and tickers, users, money, percents and numbers folded."""
    # Cut before NFKC too: it can expand text, and a pasted megabyte must stay cheap.
    text = unicodedata.normalize("NFKC", text[: max_chars * 2])[:max_chars].translate(_QUOTES)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text.lower()


def tokenize(text: str, max_chars: int) -> list[str]:
    return _TOKEN.findall(normalize(text, max_chars))


def _bucket(key: str, mask: int) -> int:
    # crc32, not hash(): Python salts str hashes per process, the weights must not move.
    return zlib.crc32(key.encode("utf-8")) & mask


@lru_cache(maxsize=1 << 16)
def _char_buckets(word: str, lo: int, hi: int, mask: int) -> tuple[int, ...]:
    padded = f" {word} "
    return tuple(
        _bucket("c" + padded[i : i + n], mask)
        for n in range(lo, hi + 1)
        for i in range(len(padded) - n + 1)
    )


def text_buckets(text: str, config: FeatureConfig) -> list[int]:
    """Hashed feature ids of one text, repeated as often as the feature occurs."""
    words = tokenize(text, config.max_chars)
    mask = config.n_features - 1
    out: list[int] = []
    lo, hi = config.word_ngrams
    for n in range(lo, hi + 1) if lo else ():
        for i in range(len(words) - n + 1):
            out.append(_bucket(f"w{n}:" + " ".join(words[i : i + n]), mask))
    lo, hi = config.char_ngrams
    if lo:
        for word in words:
            out.extend(_char_buckets(word, lo, hi, mask))
    return out


@dataclass(frozen=True)
class SparseRows:
    """A CSR matrix in plain numpy: row i holds indices/data[indptr[i]:indptr[i+1]]."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def row_ids(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    def take(self, rows: np.ndarray) -> SparseRows:
        parts = [np.arange(self.indptr[r], self.indptr[r + 1]) for r in rows]
        picked = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        lengths = np.diff(self.indptr)[rows]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return SparseRows(indptr, self.indices[picked], self.data[picked], self.n_cols)


def term_counts(texts: Sequence[str], config: FeatureConfig) -> SparseRows:
    """Sublinear term frequency (1 + log count) per hashed feature, one row per text."""
    indptr, indices, data = [0], [], []
    for text in texts:
        ids, counts = np.unique(np.asarray(text_buckets(text, config), dtype=np.int64), return_counts=True)
        indices.append(ids)
        data.append(1.0 + np.log(counts))
        indptr.append(indptr[-1] + len(ids))
    return SparseRows(
        np.asarray(indptr, dtype=np.int64),
        np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
        np.concatenate(data) if data else np.zeros(0),
        config.n_features,
    )


def tfidf(counts: SparseRows, idf: np.ndarray) -> SparseRows:
    """Scale by idf and L2-normalise each row, so a long text does not shout."""
    data = counts.data * idf[counts.indices]
    norms = np.sqrt(np.bincount(counts.row_ids(), weights=data**2, minlength=counts.n_rows))
    norms[norms == 0] = 1.0
    return SparseRows(counts.indptr, counts.indices, data / norms[counts.row_ids()], counts.n_cols)


def linear_scores(x: SparseRows, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x @ weights + bias without a sparse library; each row is summed on its own, so batching cannot change it."""
    rows = x.row_ids()
    out = np.empty((x.n_rows, weights.shape[1]))
    for c in range(weights.shape[1]):
        out[:, c] = np.bincount(rows, weights=x.data * weights[x.indices, c], minlength=x.n_rows)
    scores: np.ndarray = out + bias
    return scores


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    shares: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return shares


Encoder = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, 3) probabilities in LABELS order


def stack_input_names(with_encoder: bool) -> tuple[str, ...]:
    ngram = tuple(f"ngram_log_p_{label}" for label in LABELS)
    encoder = tuple(f"encoder_log_p_{label}" for label in LABELS) if with_encoder else ()
    return ngram + encoder


@dataclass(frozen=True)
class Stack:
    """The last stage: the first-stage models' log-probabilities weighed together, plus the rules.

    logits = inputs @ weights + bias + fired @ rule_offsets, where `fired` says which rule features
    (rules.FEATURE_NAMES) fired. The offsets are each rule's log-likelihood ratio per class, counted on
    the training tweets, and stay fixed while the weights are fitted: tweets rarely need the grammar the
    rules read ("net loss narrowed", "costs fell", "EUR 5.1 mn (4.3)"), so a weight fitted on them alone
    would ignore exactly what news sentences need. The weights are fitted on rows none of the
    first-stage models saw. Rows of `weights` follow `inputs`, columns follow LABELS.
    """

    weights: np.ndarray
    bias: np.ndarray
    rule_offsets: np.ndarray
    rules_version: str
    inputs: tuple[str, ...]

    def __post_init__(self) -> None:
        k = len(LABELS)
        if self.inputs not in (stack_input_names(False), stack_input_names(True)):
            raise ValueError(f"unknown stack inputs {list(self.inputs)}")
        _check_array("stack weights", self.weights, (len(self.inputs), k))
        _check_array("stack bias", self.bias, (k,))
        _check_array("stack rule offsets", self.rule_offsets, (len(rules.FEATURE_NAMES), k))
        if self.rules_version != rules.RULES_VERSION:
            raise ValueError(
                f"the stack was fitted for rules {self.rules_version!r}, this code has {rules.RULES_VERSION!r}; "
                "retrain with scripts/train_embedded_sentiment.py"
            )

    @property
    def uses_encoder(self) -> bool:
        return self.inputs == stack_input_names(True)

    def logits(self, inputs: np.ndarray, fired: np.ndarray) -> np.ndarray:
        # Row by row, not one BLAS product: a text's score must not depend on its batch.
        logits: np.ndarray = (rowwise_product(inputs, self.weights.astype(np.float64)) + self.bias.astype(np.float64)
                              + rowwise_product(fired, self.rule_offsets.astype(np.float64)))
        return logits


def stack_inputs(ngram: np.ndarray, encoder: np.ndarray | None) -> np.ndarray:
    """(n, inputs): log-probabilities of the first-stage models side by side."""
    parts = [ngram] if encoder is None else [ngram, encoder]
    stacked: np.ndarray = np.log(np.clip(np.hstack(parts), 1e-6, 1.0))
    return stacked


def rules_fired(texts: Sequence[str], max_chars: int) -> np.ndarray:
    """(n, F) 1.0 where a rule feature fired at least once."""
    return (rules.features(texts, max_chars) > 0).astype(np.float64)


class EmbeddedSentiment:
    """SentimentBackend: n-gram model, optional encoder, rules, and the stack that weighs them.

    Columns of `weights` follow LABELS. `encoder` is a callable (the loader builds it around the
    numpy MiniLM of encoder.py and a tokenizer); it is needed exactly when the stack reads it.
    """

    name = "embedded"

    def __init__(
        self, config: FeatureConfig, idf: np.ndarray, weights: np.ndarray, bias: np.ndarray, version: str,
        stack: Stack | None = None, encoder: Encoder | None = None,
    ) -> None:
        d, k = config.n_features, len(LABELS)
        _check_array("idf", idf, (d,))
        _check_array("weights", weights, (d, k))
        _check_array("bias", bias, (k,))
        if (encoder is not None) != (stack is not None and stack.uses_encoder):
            raise ValueError("an encoder is needed exactly when the stack reads one")
        self.config = config
        self.version = version
        # float64 copies: scores then do not depend on how the shipped file rounded.
        self._idf = idf.astype(np.float64)
        self._weights = weights.astype(np.float64)
        self._bias = bias.astype(np.float64)
        self._stack = stack
        self._encoder = encoder

    def features(self, texts: Sequence[str]) -> SparseRows:
        return tfidf(term_counts(texts, self.config), self._idf)

    def base_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) of the n-gram model alone, in LABELS order."""
        return softmax(linear_scores(self.features(texts), self._weights, self._bias))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) in LABELS order; a text with no features at all (empty, punctuation) is neutral."""
        return self.stages(texts)[2]

    def stages(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(n-gram, encoder or None, final) probabilities, each (n, 3): the parts for reports, one pass."""
        texts = list(texts)
        x = self.features(texts)
        ngram = softmax(linear_scores(x, self._weights, self._bias))
        probs = ngram.copy()
        empty = np.diff(x.indptr) == 0
        encoded = None
        if self._stack is not None:
            if self._encoder is not None:
                # Texts without words skip the encoder: they end up exactly neutral anyway.
                encoded = np.full((len(texts), len(LABELS)), 1.0 / len(LABELS))
                wordy = np.flatnonzero(~empty)
                if len(wordy):
                    # The same quote folding as the n-grams: typography must not move a score.
                    encoded[wordy] = self._encoder([texts[i].translate(_QUOTES) for i in wordy])
            fired = rules_fired(texts, self.config.max_chars)
            probs = softmax(self._stack.logits(stack_inputs(ngram, encoded), fired))
        probs[empty] = [getattr(NEUTRAL, label) for label in LABELS]
        return ngram, encoded, probs

    def score(self, texts: Sequence[str]) -> list[Polarity]:
        if isinstance(texts, str):
            raise TypeError("score() takes a sequence of texts, not one string")
        return [Polarity(**{label: float(p) for label, p in zip(LABELS, row)}) for row in self.probabilities(texts)]


def _check_array(name: str, array: np.ndarray, shape: tuple[int, ...]) -> None:
    if not isinstance(array, np.ndarray) or array.shape != shape:
        got = getattr(array, "shape", type(array).__name__)
        raise ValueError(f"{name} must have shape {shape}, got {got}")
    if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite floats")
