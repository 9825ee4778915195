"""Loading sentiment backends: which model runs, from where, and what to say when it is not FinBERT.

No mode touches the network: FinBERT runs only when the `finbert` extra (torch, transformers) is
installed and its weights are already on this machine (a local directory or the Hugging Face cache);
fetching them is a separate, explicit step (FETCH_HINT). `auto` falls back to the embedded model and
says why in one line; `finbert` is the explicit mode, where anything missing is a one-line error that
says what to run, never a quiet switch to another model and never a wait on an unreachable hub.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intelligence.sentiment.base import SentimentBackend
from intelligence.types import Problem
from providers.load_progress import load_progress

CHOICES = ("auto", "finbert", "embedded")
EXTRA_HINT = "pip install -e '.[finbert]'"
FINBERT_MODULES = ("torch", "transformers")
CONFIG_FILE = "config.json"
# Single-file and sharded checkpoints, newest format first.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# Scoring leaves one core to the bots, the scheduler and the OS: on a busy 2-core machine two torch
# threads were measured slower than one (OpenMP threads spin while they wait for a core), and the
# gain past a few threads on batches of short headlines is small.
_MAX_TORCH_THREADS = 4

_lock = threading.Lock()
_finbert_cache: dict[tuple[str, bool], SentimentBackend] = {}
_embedded_backend: SentimentBackend | None = None
_torch_configured = False


class SentimentLoadError(Exception):
    """The configured sentiment model could not be loaded; the message names the model and the cause."""


@dataclass(frozen=True)
class LoadedBackend:
    backend: SentimentBackend
    note: str  # one line for the digest and /status: which model runs and, if not FinBERT, why
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class _OnDisk:
    """FinBERT files found on this machine without any network call."""

    directory: Path
    revision: str  # hub commit, or a fingerprint of the directory


def load_backend(choice: str, finbert_model: str, *, quantize: bool = False) -> LoadedBackend:
    """`quantize`: FinBERT with int8 Linear layers (TB_FINBERT_QUANTIZE); the embedded model is not affected."""
    if choice == "embedded":
        return LoadedBackend(_embedded(), "embedded model (selected)")
    if choice == "finbert":
        return LoadedBackend(load_finbert(finbert_model, quantize=quantize), _finbert_note(finbert_model, quantize))
    if choice == "auto":
        return _auto(finbert_model, quantize)
    raise ValueError(f"unknown sentiment backend {choice!r}; allowed: {', '.join(CHOICES)}")


def _finbert_note(model_id: str, quantize: bool) -> str:
    return f"FinBERT ({model_id}, int8)" if quantize else f"FinBERT ({model_id})"


def fetch_hint(model_id: str) -> str:
    """What to run once, with the network, so that FinBERT's weights are on this machine."""
    if _looks_like_path(model_id):
        return f"put a FinBERT checkpoint in {model_id} or point TB_FINBERT_MODEL at one"
    return f"fetch them once with `hf download {model_id}` (or point TB_FINBERT_MODEL at a local directory)"


def finbert_installed() -> bool:
    """Whether the `finbert` extra is importable; cheap: finds the modules without importing them."""
    for name in FINBERT_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):  # a broken or half-removed install counts as missing
            return False
    return True


def _auto(model_id: str, quantize: bool) -> LoadedBackend:
    if not finbert_installed():
        return LoadedBackend(_embedded(), f"FinBERT is not installed ({EXTRA_HINT}); using the embedded model")
    if not has_local_weights(model_id):
        note = f"FinBERT weights for {model_id} are not available locally; using the embedded model"
        return LoadedBackend(_embedded(), note)
    try:
        backend = load_finbert(model_id, quantize=quantize)
    except SentimentLoadError as exc:
        note = f"FinBERT weights for {model_id} failed to load; using the embedded model"
        return LoadedBackend(_embedded(), note, (Problem("sentiment", str(exc)),))
    return LoadedBackend(backend, _finbert_note(model_id, quantize))


def _embedded() -> SentimentBackend:
    """The shipped model, read from disk once per process (a long-running `serve` scores every cycle)."""
    # Imported late: the embedded model belongs to another module and is only needed on this path.
    from providers.embedded_sentiment import STAGES, load_embedded_backend

    global _embedded_backend
    with _lock:
        if _embedded_backend is None:
            try:
                with load_progress("the embedded sentiment model", STAGES) as step:
                    _embedded_backend = load_embedded_backend(step=step)
            except Exception as exc:  # one error type for the caller, whichever model failed
                raise SentimentLoadError(f"cannot load the embedded sentiment model: {_one_line(exc)}") from exc
        return _embedded_backend


def has_local_weights(model_id: str) -> bool:
    """Whether FinBERT's weights are on this machine; cheap, no network, no torch or transformers import."""
    return find_on_disk(model_id) is not None


def find_on_disk(model_id: str) -> _OnDisk | None:
    directory = _directory(model_id)
    if directory is not None:
        # A directory the operator named counts as present; if it is broken, loading says how.
        return _OnDisk(directory, _directory_fingerprint(directory))
    return _hub_snapshot(model_id)


def _directory(model_id: str) -> Path | None:
    if not model_id.strip():  # Path("") is the working directory, which nobody means
        return None
    directory = Path(model_id).expanduser()
    return directory if directory.is_dir() else None


def _looks_like_path(model_id: str) -> bool:
    # Hub ids are "name" or "org/name"; anything else can only have meant a directory.
    return model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1 or (os.sep != "/" and os.sep in model_id)


def _hub_snapshot(model_id: str) -> _OnDisk | None:
    config = _cached_file(model_id, CONFIG_FILE)
    if config is None or not any(_cached_file(model_id, name) for name in WEIGHT_FILES):
        return None
    # The snapshot is a plain directory of the cached files: loading it as one keeps transformers
    # from calling hf_hub_download, which may go online (user-agent telemetry) even with local_files_only.
    snapshot = Path(config).parent
    return _OnDisk(snapshot, _snapshot_commit(config) or _directory_fingerprint(snapshot))


def _cached_file(model_id: str, filename: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(model_id, filename)
    except ValueError:  # not a valid repo id (e.g. a path that does not exist): nothing cached under it
        return None
    return found if isinstance(found, str) else None


def _snapshot_commit(cached_path: str) -> str | None:
    """The hub commit a cached file belongs to (…/snapshots/<commit>/file)."""
    parent = Path(cached_path).parent
    return parent.name if parent.parent.name == "snapshots" and _COMMIT.match(parent.name) else None


def _directory_fingerprint(directory: Path) -> str:
    # Name, size and modification time of every file: rewriting the weights or the vocabulary changes
    # the fingerprint (and so the score cache key) without reading hundreds of megabytes.
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return "dir-" + digest.hexdigest()[:12]


def load_finbert(model_id: str, *, quantize: bool = False) -> SentimentBackend:
    """FinBERT, loaded once per process per model id and precision, from this machine only; raises
    SentimentLoadError with a one-line cause and what to run about it."""
    if not finbert_installed():
        raise SentimentLoadError(f"FinBERT is not installed: {EXTRA_HINT} adds it (torch and transformers, "
                                 f"about 1.5 GB); then {fetch_hint(model_id or 'ProsusAI/finbert')}")
    with _lock:
        cached = _finbert_cache.get((model_id, quantize))
        if cached is None:
            cached = _load_finbert_uncached(model_id, quantize)
            _finbert_cache[(model_id, quantize)] = cached
        return cached


def _load_finbert_uncached(model_id: str, quantize: bool) -> SentimentBackend:
    if not model_id.strip():
        raise SentimentLoadError("cannot load FinBERT: the model id (TB_FINBERT_MODEL) is empty")
    on_disk = find_on_disk(model_id)
    if on_disk is None:
        missing = "no such directory" if _looks_like_path(model_id) else "its weights are not on this machine"
        raise SentimentLoadError(f"cannot load FinBERT model {model_id!r}: {missing}; {fetch_hint(model_id)}")
    try:
        with load_progress(f"FinBERT ({model_id})", 3 if quantize else 2) as step:
            step("importing torch and transformers")
            from intelligence.sentiment.finbert import FinBertSentiment, quantize_int8

            _configure_torch()
            step("reading the weights")
            model, tokenizer = _from_directory(on_disk.directory)
            if quantize:
                step("quantizing to int8")
                model = quantize_int8(model)
        return FinBertSentiment(model, tokenizer, model_id=model_id, revision=on_disk.revision)
    except Exception as exc:  # transformers, safetensors, torch and the OS all raise their own types
        raise SentimentLoadError(f"cannot load FinBERT model {model_id!r}: {_one_line(exc)}") from exc


def _from_directory(directory: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    # A plain directory and local_files_only: transformers never asks the hub, so no retry storm
    # when there is no network.
    tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        str(directory), local_files_only=True, output_loading_info=True
    )
    # transformers fills missing weights with random values and only warns: that would be noise
    # dressed up as sentiment, so a checkpoint without a trained head is an error here.
    missing = sorted(info.get("missing_keys") or ())
    mismatched = sorted(str(key[0]) if isinstance(key, tuple) else str(key) for key in info.get("mismatched_keys") or ())
    if missing or mismatched:
        keys = ", ".join((missing + mismatched)[:5])
        raise ValueError(f"the checkpoint lacks trained weights for {keys}")
    model.eval()
    return model, tokenizer


def _configure_torch() -> None:
    """Threads for scoring: all cores but one, at most a few; OMP_NUM_THREADS, when set, decides instead."""
    global _torch_configured
    if _torch_configured:
        return
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        torch.set_num_threads(max(1, min(cores - 1, _MAX_TORCH_THREADS)))
    _torch_configured = True


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
