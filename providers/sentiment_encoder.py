"""Load the embedded model's sentence encoder: MiniLM's published weights plus our trained top layers.

Everything ships in providers/embedded/sentiment/, so nothing is downloaded at run time and neither
torch nor sentence-transformers is needed: minilm_base.npz holds the part of all-MiniLM-L6-v2 we do
not train (embeddings and the lower blocks, float16; Apache-2.0, see SOURCES.md there),
tokenizer.json its tokenizer, and encoder.npz the blocks and head we trained. The shipped base is
checked against the SHA-256 recorded at training time: other base weights under our head would
give confident nonsense, so they are refused with a clear error instead.
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from intelligence.sentiment.encoder import EncoderShape, MiniLmClassifier

BASE_FILE, TOKENIZER_FILE = "minilm_base.npz", "tokenizer.json"
# Scoring leaves one core to the rest of the process and the OS, like FinBERT (sentiment_models.py):
# on a busy 2-core machine more BLAS threads than free cores were measured several times slower.
_MAX_THREADS = 4


class EncoderLoadError(ValueError):
    """The encoder's files are missing, altered or inconsistent; the message says which and what to do."""


@dataclass(frozen=True)
class EncoderFiles:
    """What model.json records about the encoder it was trained with."""

    shape: EncoderShape
    base_sha256: str  # of minilm_base.npz
    tokenizer_sha256: str  # of tokenizer.json

    @classmethod
    def from_meta(cls, raw: Mapping[str, Any]) -> EncoderFiles:
        shape = EncoderShape(**{k: raw["shape"][k] for k in ("layers", "hidden", "heads", "max_tokens")})
        return cls(shape, str(raw["base_sha256"]), str(raw["tokenizer_sha256"]))


class EncoderStage:
    """texts -> (n, 3) probabilities: tokenise, then the numpy classifier with a bounded thread pool."""

    def __init__(self, classifier: MiniLmClassifier, tokenizer: Any) -> None:
        self._classifier = classifier
        self._tokenizer = tokenizer

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        with _blas_threads():
            return self._classifier.probabilities(ids)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise EncoderLoadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def load_encoder(trained: bytes, files: EncoderFiles, directory: Path,
                 step: Callable[[str], None] = lambda stage: None) -> EncoderStage:
    """`trained` is the bytes of encoder.npz (our blocks and head); `directory` holds the shipped base.
    `step` hears the name of each of three stages as it starts."""
    step("checking MiniLM files")
    from tokenizers import Tokenizer

    base_path, tokenizer_path = directory / BASE_FILE, directory / TOKENIZER_FILE
    for path, expected in ((base_path, files.base_sha256), (tokenizer_path, files.tokenizer_sha256)):
        if sha256_of(path) != expected:
            raise EncoderLoadError(
                f"{path} is not the file the embedded sentiment model was trained on "
                f"(sha256 differs from {expected[:12]}…); restore it from the repository or retrain "
                "(scripts/train_embedded_sentiment.py)"
            )
    step("reading MiniLM weights")
    try:
        weights = _read_npz(base_path.read_bytes())
        overlay = _read_npz(trained)
    except Exception as exc:  # zipfile and numpy each raise their own types
        raise EncoderLoadError(f"cannot read the encoder weights in {directory}: {exc}") from exc
    clash = sorted(set(overlay) & set(weights))
    if clash:
        raise EncoderLoadError(f"the trained encoder and the shipped base both hold {clash[:3]}")
    weights.update(overlay)
    step("building the encoder")
    try:
        classifier = MiniLmClassifier(weights, files.shape)
    except ValueError as exc:
        raise EncoderLoadError(f"the encoder in {directory} is inconsistent: {exc}") from exc
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.no_padding()  # texts run unpadded, each on its own (encoder.py)
    tokenizer.enable_truncation(files.shape.max_tokens)
    return EncoderStage(classifier, tokenizer)


def _read_npz(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _blas_threads() -> Any:
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    if "OMP_NUM_THREADS" in os.environ or "OPENBLAS_NUM_THREADS" in os.environ:
        return nullcontext()  # the operator chose; as with torch, their setting decides
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return threadpool_limits(limits=max(1, min(cores - 1, _MAX_THREADS)), user_api="blas")
