"""Load the embedded sentiment model that ships in providers/embedded/sentiment/.

The I/O half of the embedded backend: reads model.npz (n-gram and stack arrays), model.json
(feature config and metadata) and, when the model has one, encoder.npz (see sentiment_encoder.py),
checks them, and hands plain arrays and callables to the pure scorer.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

from intelligence.sentiment.base import LABELS
from intelligence.sentiment.embedded import SCORING_VERSION, EmbeddedSentiment, FeatureConfig, Stack
from providers.sentiment_encoder import EncoderFiles, EncoderLoadError, load_encoder

DEFAULT_DIR = Path(__file__).parent / "embedded" / "sentiment"
ARRAYS = ("idf", "weights", "bias")
STACK_ARRAYS = ("stack_weights", "stack_bias", "stack_rule_offsets")  # present when model.json has a "stack" section
ENCODER_FILE = "encoder.npz"  # present when model.json has an "encoder" section


class SentimentModelError(ValueError):
    """The embedded model's files are missing, unreadable or inconsistent."""


STAGES = 4  # steps reported to `step`: n-gram model, then load_encoder's three


def load_embedded_backend(path: Path | None = None, step: Callable[[str], None] = lambda stage: None) -> EmbeddedSentiment:
    """`path` is the model directory (or its model.npz); default: the copy shipped with the package.
    `step` hears the name of each stage as it starts (a progress bar on a terminal)."""
    step("n-gram model")
    directory = _model_dir(Path(path) if path is not None else DEFAULT_DIR)
    npz_path, json_path = directory / "model.npz", directory / "model.json"
    meta = _read_meta(json_path)
    blob = _read_bytes(npz_path)
    stacked = "stack" in meta
    arrays = _read_arrays(npz_path, blob, ARRAYS + (STACK_ARRAYS if stacked else ()))
    try:
        config = FeatureConfig.from_dict(meta["features"])
        stack = encoder = None
        identity: dict[str, Any] = {"features": config.to_dict(), "scoring": SCORING_VERSION}
        if stacked:
            inputs = tuple(str(name) for name in meta["stack"]["inputs"])
            stack = Stack(arrays.pop("stack_weights"), arrays.pop("stack_bias"), arrays.pop("stack_rule_offsets"),
                          str(meta["stack"]["rules_version"]), inputs)
            identity["rules"] = stack.rules_version
        if "encoder" in meta:
            files = EncoderFiles.from_meta(meta["encoder"])
            trained = _read_bytes(directory / ENCODER_FILE)
            encoder = load_encoder(trained, files, directory, step)
            identity["encoder"] = [hashlib.sha256(trained).hexdigest(), files.base_sha256, files.tokenizer_sha256]
        # The version covers everything that moves a score: the weights, how texts become features,
        # which rules the stack reads and which encoder (ours and the base under it).
        digest = hashlib.sha256(blob + json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
        return EmbeddedSentiment(config, **arrays, version=f"{meta['version']}+{digest}", stack=stack, encoder=encoder)
    except EncoderLoadError as exc:
        raise SentimentModelError(f"embedded sentiment model in {directory}: {exc}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise SentimentModelError(f"embedded sentiment model in {directory} is inconsistent: {exc}") from exc


def _model_dir(path: Path) -> Path:
    return path.parent if path.suffix in (".npz", ".json") else path


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SentimentModelError(
            f"cannot read embedded sentiment weights {path}: {exc.strerror or exc}; "
            "retrain with scripts/train_embedded_sentiment.py"
        ) from exc


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(_read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SentimentModelError(f"embedded sentiment metadata {path} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("version"), str) or "features" not in meta:
        raise SentimentModelError(f"embedded sentiment metadata {path} lacks 'version' or 'features'")
    if meta.get("labels", list(LABELS)) != list(LABELS):
        raise SentimentModelError(
            f"embedded sentiment metadata {path} has labels {meta['labels']}, expected {list(LABELS)}"
        )
    return meta


def _read_arrays(path: Path, blob: bytes, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            missing = [name for name in names if name not in npz.files]
            if missing:
                raise SentimentModelError(f"embedded sentiment weights {path} lack arrays {missing}")
            return {name: npz[name] for name in names}
    except SentimentModelError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise SentimentModelError(f"embedded sentiment weights {path} are corrupt: {exc}") from exc
