"""Train the embedded sentiment model shipped in providers/embedded/sentiment/.

Deterministic: a fixed seed for the held-out split, full-batch L-BFGS, no threads racing.
Hyper-parameters are picked on a held-out split of sent_train; sent_valid is only reported,
never tuned on (the real target is news sentences, and tweets differ from them).

    .venv/bin/python scripts/train_embedded_sentiment.py [--train CSV] [--valid CSV] [--out DIR]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere

from intelligence.sentiment.base import LABELS  # noqa: E402
from intelligence.sentiment.embedded import (  # noqa: E402
    EmbeddedSentiment, FeatureConfig, SparseRows, linear_scores, softmax, term_counts, tfidf,
)

MODEL_VERSION = "tb-embedded-sentiment-1"
DATA_SOURCE = "zeroshot/twitter-financial-news-sentiment, MIT"
# The data set's labels: 0 bearish, 1 bullish, 2 neutral.
DATASET_LABELS = {0: "negative", 1: "positive", 2: "neutral"}
SEED = 20251213
HOLDOUT_SHARE = 0.15
BASE_FEATURES = FeatureConfig()
# Character n-grams stay on whatever the tweet hold-out says (they were within noise of
# words alone there): they carry morphology (rose/rises/rising) to news text the tweets lack.
GRID = {
    "word_ngrams": [(1, 2), (1, 3)],
    "l2": [1e-5, 3e-5],
    "class_weight": ["none", "sqrt-balanced"],
}


@dataclass(frozen=True)
class Hyper:
    features: FeatureConfig
    l2: float
    class_weight: str


def read_labelled(path: Path) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["text"])
            labels.append(LABELS.index(DATASET_LABELS[int(row["label"])]))
    return texts, np.asarray(labels, dtype=np.int64)


def stratified_split(labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    held = []
    for c in range(len(LABELS)):
        members = rng.permutation(np.flatnonzero(labels == c))
        held.append(members[: int(round(share * len(members)))])
    mask = np.zeros(len(labels), dtype=bool)
    mask[np.concatenate(held)] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def inverse_document_frequency(counts: SparseRows) -> np.ndarray:
    # Smoothed idf; buckets never seen get the largest value but carry zero weight anyway.
    df = np.bincount(counts.indices, minlength=counts.n_cols)
    return (np.log((1.0 + counts.n_rows) / (1.0 + df)) + 1.0).astype(np.float32)


def sample_weights(labels: np.ndarray, scheme: str) -> np.ndarray:
    if scheme == "none":
        return np.ones(len(labels))
    # sqrt of "balanced": lifts the rare bearish/bullish classes without flattening the prior.
    freq = np.bincount(labels, minlength=len(LABELS)) / len(labels)
    per_class = 1.0 / np.sqrt(len(LABELS) * freq)
    return per_class[labels]


def make_objective(x: SparseRows, labels: np.ndarray, weights: np.ndarray, l2: float) -> Callable:
    d, k = x.n_cols, len(LABELS)
    onehot = np.eye(k)[labels]
    w_norm = weights / weights.sum()
    rows = x.row_ids()

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * k].reshape(d, k), theta[d * k :]
        probs = softmax(linear_scores(x, w, b))
        loss = -np.sum(w_norm * np.log(probs[np.arange(len(labels)), labels] + 1e-12)) + 0.5 * l2 * np.sum(w * w)
        g_z = (probs - onehot) * w_norm[:, None]
        g_w = np.stack([np.bincount(x.indices, weights=x.data * g_z[rows, c], minlength=d) for c in range(k)], 1)
        return float(loss), np.concatenate([(g_w + l2 * w).ravel(), g_z.sum(axis=0)])

    return objective


def lbfgs(
    objective: Callable, theta: np.ndarray, max_iter: int = 300, memory: int = 10, tol: float = 1e-6
) -> np.ndarray:
    """Plain L-BFGS with Armijo backtracking; full batch, so the result is reproducible."""
    f, g = objective(theta)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(max_iter):
        direction = -_two_loop(g, s_hist, y_hist)
        slope = float(g @ direction)
        if slope >= 0:  # lost curvature information: restart from steepest descent
            s_hist.clear(), y_hist.clear()
            direction, slope = -g, -float(g @ g)
        step = 1.0 if s_hist else 1.0 / max(np.linalg.norm(g), 1e-12)
        while True:
            f_new, g_new = objective(theta + step * direction)
            if f_new <= f + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = step * direction, g_new - g
        if s @ y > 1e-12:
            s_hist, y_hist = (s_hist + [s])[-memory:], (y_hist + [y])[-memory:]
        theta, converged = theta + s, abs(f - f_new) <= tol * max(1.0, abs(f))
        f, g = f_new, g_new
        if converged:
            break
    return theta


def _two_loop(g: np.ndarray, s_hist: list[np.ndarray], y_hist: list[np.ndarray]) -> np.ndarray:
    q, alphas = g.copy(), []
    for s, y in zip(reversed(s_hist), reversed(y_hist)):
        alpha = (s @ q) / (y @ s)
        q -= alpha * y
        alphas.append(alpha)
    if s_hist:
        q *= (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1])
    for (s, y), alpha in zip(zip(s_hist, y_hist), reversed(alphas)):
        q += (alpha - (y @ q) / (y @ s)) * s
    return q


def fit(counts: SparseRows, labels: np.ndarray, hyper: Hyper) -> dict[str, np.ndarray]:
    idf = inverse_document_frequency(counts)
    x = tfidf(counts, idf)
    # Optimise only the buckets the data touches (L2 keeps the others at exactly zero): ~3x faster.
    active, local = np.unique(x.indices, return_inverse=True)
    x = SparseRows(x.indptr, local, x.data, len(active))
    d, k = len(active), len(LABELS)
    prior = np.log(np.bincount(labels, minlength=k) / len(labels))
    objective = make_objective(x, labels, sample_weights(labels, hyper.class_weight), hyper.l2)
    theta = lbfgs(objective, np.concatenate([np.zeros(d * k), prior]))
    weights = np.zeros((hyper.features.n_features, k), dtype=np.float32)
    weights[active] = theta[: d * k].reshape(d, k)
    return {"idf": idf, "weights": weights, "bias": theta[d * k :].astype(np.float32)}


def as_backend(features: FeatureConfig, arrays: dict[str, np.ndarray]) -> EmbeddedSentiment:
    # Built from the float32 arrays that ship, so every metric reported is the shipped model's.
    return EmbeddedSentiment(features, **arrays, version="training")


def metrics(model: EmbeddedSentiment, texts: list[str], labels: np.ndarray) -> dict:
    predicted = model.probabilities(texts).argmax(axis=1)
    k = len(LABELS)
    confusion = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)
    tp = np.diag(confusion).astype(float)
    precision = tp / np.maximum(confusion.sum(axis=0), 1)
    recall = tp / np.maximum(confusion.sum(axis=1), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return {
        "rows": int(len(labels)),
        "accuracy": round(float(tp.sum() / len(labels)), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "f1": {label: round(float(v), 4) for label, v in zip(LABELS, f1)},
        "confusion": {"labels": list(LABELS), "rows_true_cols_predicted": confusion.tolist()},
    }


def select(texts: list[str], labels: np.ndarray) -> tuple[Hyper, dict]:
    """Grid search on a stratified hold-out of the training file; accuracy first, macro-F1 breaks ties."""
    train_idx, held_idx = stratified_split(labels, HOLDOUT_SHARE, SEED)
    held_texts = [texts[i] for i in held_idx]
    best: tuple[tuple[float, float], Hyper, dict] | None = None
    for words in GRID["word_ngrams"]:
        features = replace(BASE_FEATURES, word_ngrams=words)
        counts = term_counts(texts, features).take(train_idx)
        for l2, scheme in product(GRID["l2"], GRID["class_weight"]):
            hyper = Hyper(features, l2, scheme)
            model = as_backend(features, fit(counts, labels[train_idx], hyper))
            result = metrics(model, held_texts, labels[held_idx])
            print(f"  words={words} l2={l2:g} weights={scheme}: "
                  f"hold-out accuracy {result['accuracy']:.4f} macro-F1 {result['macro_f1']:.4f}", flush=True)
            key = (result["accuracy"], result["macro_f1"])
            if best is None or key > best[0]:
                best = (key, hyper, result)
    assert best is not None
    return best[1], best[2]


def save(arrays: dict[str, np.ndarray], out_dir: Path, meta: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    npz = out_dir / "model.npz"
    # savez stamps every member with the same fixed zip date, so equal arrays give equal bytes
    # (and so the same version string).
    np.savez_compressed(npz, **arrays)
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return npz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=ROOT / "../shared/data/sentiment/sent_train.csv")
    parser.add_argument("--valid", type=Path, default=ROOT / "../shared/data/sentiment/sent_valid.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "providers/embedded/sentiment")
    args = parser.parse_args(argv)

    train_texts, train_labels = read_labelled(args.train)
    valid_texts, valid_labels = read_labelled(args.valid)
    print(f"train {len(train_texts)} rows, valid {len(valid_texts)} rows; grid search on a "
          f"{HOLDOUT_SHARE:.0%} hold-out of train:", flush=True)
    hyper, holdout = select(train_texts, train_labels)
    arrays = fit(term_counts(train_texts, hyper.features), train_labels, hyper)
    valid = metrics(as_backend(hyper.features, arrays), valid_texts, valid_labels)
    meta = {
        "version": MODEL_VERSION,
        "labels": list(LABELS),
        "features": hyper.features.to_dict(),
        "training": {
            "data": DATA_SOURCE,
            "rows": len(train_texts),
            "model": "multinomial logistic regression on tf-idf of hashed n-grams, L-BFGS",
            "l2": hyper.l2,
            "class_weight": hyper.class_weight,
            "seed": SEED,
            "selected_on": f"stratified {HOLDOUT_SHARE:.0%} hold-out of the training file",
        },
        "metrics": {"holdout": holdout, "sent_valid": valid},
    }
    npz = save(arrays, args.out, meta)
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()[:12]
    print(f"chosen: {hyper}")
    print(f"sent_valid: accuracy {valid['accuracy']:.4f}  macro-F1 {valid['macro_f1']:.4f}  f1 {valid['f1']}")
    print(f"wrote {npz} ({npz.stat().st_size / 1e6:.2f} MB, sha256 {digest}) and model.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
