"""A small BERT sentence encoder (MiniLM) and its classification head, run in plain numpy.

Why numpy and not torch: the embedded backend must start fast and run everywhere the project
installs. The forward pass of a 6-layer, 384-wide encoder over headline-length texts is a few
hundred small matrix products; numpy does it in milliseconds per text, without the seconds torch
and transformers take to import. Training (scripts/train_embedded_sentiment.py) uses torch, and a
test checks that both give the same numbers.

Texts are grouped by token length and never padded, and every product is one text's own (a stacked
matmul runs one BLAS call per text; the pooling and the head reduce each text's own contiguous
row): a text's probabilities are bit for bit the same whatever else is scored with it.
Pure: weights and token ids come in as arrays; the tokenizer and the files belong to the loader.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from intelligence.sentiment.base import LABELS

# Python floats, not numpy scalars: a float64 scalar would silently promote float32 activations.
_SQRT_HALF = math.sqrt(0.5)


@dataclass(frozen=True)
class EncoderShape:
    layers: int = 6
    hidden: int = 384
    heads: int = 12
    max_tokens: int = 128  # headlines need ~30; the cap bounds the cost of a pasted article
    eps: float = 1e-12

    def __post_init__(self) -> None:
        if self.layers < 1 or self.hidden % self.heads or self.max_tokens < 2:
            raise ValueError(f"invalid encoder shape {self}")


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normed: np.ndarray = (x - mean) / np.sqrt(var + eps) * gamma + beta
    return normed


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, far below what float32 weights resolve.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    value: np.ndarray = sign * (1.0 - poly * np.exp(-x * x))
    return value


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x)."""
    return 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))


def rowwise_product(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x @ w for 2-D x, each row reduced on its own: a BLAS product's rounding depends on how many
    rows it is given (one row takes another code path than many), which would let a text's score
    depend on the texts scored with it."""
    product: np.ndarray = (x[:, None, :] * np.ascontiguousarray(w.T)[None, :, :]).sum(axis=-1)
    return product


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    shares: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return shares


class MiniLmClassifier:
    """Token ids -> mean-pooled sentence vector -> class probabilities (LABELS order).

    `weights` uses the names of a transformers BertModel state dict ("embeddings.word_embeddings.weight",
    "encoder.layer.0.attention.self.query.weight", ...) plus "head.weight" (3 x hidden) and "head.bias".
    """

    def __init__(self, weights: Mapping[str, np.ndarray], shape: EncoderShape = EncoderShape()) -> None:
        self.shape = shape
        get = _Getter(weights)
        h = shape.hidden
        self._word = get("embeddings.word_embeddings.weight", (None, h))
        self._position = get("embeddings.position_embeddings.weight", (None, h))
        if self._position.shape[0] < shape.max_tokens:
            raise ValueError(f"position table has {self._position.shape[0]} rows, max_tokens is {shape.max_tokens}")
        self._token_type = get("embeddings.token_type_embeddings.weight", (None, h))[0]
        self._embed_norm = (get("embeddings.LayerNorm.weight", (h,)), get("embeddings.LayerNorm.bias", (h,)))
        self._layers = [_Layer(get, f"encoder.layer.{i}.", h) for i in range(shape.layers)]
        self._head_w = get("head.weight", (len(LABELS), h)).T.copy()
        self._head_b = get("head.bias", (len(LABELS),))
        unused = set(weights) - get.used - {"embeddings.position_ids"}
        if any(not name.startswith("pooler.") for name in unused):
            raise ValueError(f"unexpected encoder weights: {sorted(unused)[:5]}")

    def sentence_vectors(self, token_ids: Sequence[Sequence[int]]) -> np.ndarray:
        """(n, hidden) mean-pooled vectors; texts of equal token length run together, so no padding
        (and no attention mask) is ever needed and a text's vector cannot depend on its neighbours'
        content."""
        ids = [np.asarray(list(t)[: self.shape.max_tokens], dtype=np.int64) for t in token_ids]
        for row in ids:
            if row.ndim != 1 or len(row) == 0:
                raise ValueError("a text needs at least one token id")
            if row.min() < 0 or row.max() >= len(self._word):
                raise ValueError("token id outside the vocabulary")
        out = np.zeros((len(ids), self.shape.hidden), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, row in enumerate(ids):
            by_length.setdefault(len(row), []).append(i)
        for length, members in by_length.items():
            batch = np.stack([ids[i] for i in members])  # (b, length)
            x = self._word[batch] + self._position[:length] + self._token_type
            x = _layer_norm(x, *self._embed_norm, self.shape.eps)
            for layer in self._layers:
                x = layer(x, self.shape)  # stacked matmuls: one BLAS call per text, same shapes as alone
            # Each (text, feature) row of token values contiguous and reduced on its own.
            out[members] = np.ascontiguousarray(x.transpose(0, 2, 1)).mean(axis=-1)
        return out

    def probabilities(self, token_ids: Sequence[Sequence[int]]) -> np.ndarray:
        """(n, 3) in LABELS order, one row per text."""
        if not token_ids:
            return np.zeros((0, len(LABELS)))
        return _softmax_rows(rowwise_product(self.sentence_vectors(token_ids), self._head_w) + self._head_b).astype(np.float64)


class _Getter:
    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self._weights = weights
        self.used: set[str] = set()

    def __call__(self, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
        if name not in self._weights:
            raise ValueError(f"encoder weight {name} is missing")
        array = np.asarray(self._weights[name])
        if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
            raise ValueError(f"encoder weight {name} has shape {array.shape}, expected {shape}")
        if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)):
            raise ValueError(f"encoder weight {name} must be finite floats")
        self.used.add(name)
        return array.astype(np.float32)


class _Layer:
    """One transformer block; linear weights stored transposed (in x out) for x @ W."""

    def __init__(self, get: _Getter, prefix: str, h: int) -> None:
        def linear(name: str, out: int, inp: int) -> tuple[np.ndarray, np.ndarray]:
            return get(f"{prefix}{name}.weight", (out, inp)).T.copy(), get(f"{prefix}{name}.bias", (out,))

        q, k, v = (linear(f"attention.self.{n}", h, h) for n in ("query", "key", "value"))
        # One product for query, key and value: a third of the calls.
        self.qkv = (np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]]))
        self.attn_out = linear("attention.output.dense", h, h)
        self.attn_norm = (get(f"{prefix}attention.output.LayerNorm.weight", (h,)),
                          get(f"{prefix}attention.output.LayerNorm.bias", (h,)))
        inner = get(f"{prefix}intermediate.dense.weight", (None, h)).shape[0]
        self.inner = linear("intermediate.dense", inner, h)
        self.out = linear("output.dense", h, inner)
        self.out_norm = (get(f"{prefix}output.LayerNorm.weight", (h,)), get(f"{prefix}output.LayerNorm.bias", (h,)))

    def __call__(self, x: np.ndarray, shape: EncoderShape) -> np.ndarray:
        b, n, h = x.shape
        d = h // shape.heads
        qkv = x @ self.qkv[0] + self.qkv[1]
        q, k, v = (qkv[..., i * h : (i + 1) * h].reshape(b, n, shape.heads, d).transpose(0, 2, 1, 3) for i in range(3))
        attention = _softmax_rows(q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(d)))  # (b, heads, n, n)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(b, n, h)
        x = _layer_norm(context @ self.attn_out[0] + self.attn_out[1] + x, *self.attn_norm, shape.eps)
        inner = gelu(x @ self.inner[0] + self.inner[1])
        return _layer_norm(inner @ self.out[0] + self.out[1] + x, *self.out_norm, shape.eps)
