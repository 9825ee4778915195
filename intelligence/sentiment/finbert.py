"""FinBERT scoring: a loaded transformers sequence classifier turned into a SentimentBackend.

Loading (files, cache, network) is the shell's job (providers/sentiment_models.py); this module
only runs an already-loaded model, so it stays pure and testable.
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping, Sequence

import torch

from intelligence.sentiment.base import LABELS
from intelligence.types import Polarity

DEFAULT_MAX_LENGTH = 128  # headlines are far shorter; the cap only bounds summaries and abuse
DEFAULT_BATCH_SIZE = 32
NEUTRAL = Polarity(positive=0.0, negative=0.0, neutral=1.0)


def label_columns(id2label: Mapping[Any, str], label_map: Mapping[str, str] | None = None) -> tuple[int, int, int]:
    """Output column of positive, negative and neutral, in that order.

    Labels are matched case-insensitively by name; generic names (LABEL_0, ...) carry no meaning, so
    they are accepted only through an explicit `label_map` (model label -> positive/negative/neutral).
    """
    wanted = {key.lower(): value.lower() for key, value in (label_map or {}).items()}
    columns: dict[str, int] = {}
    for index, raw in id2label.items():
        name = str(raw).lower()
        ours = wanted.get(name, name)
        if ours in LABELS:
            if ours in columns:
                raise ValueError(f"model labels {dict(id2label)} map two outputs to {ours!r} of positive/negative/neutral")
            columns[ours] = int(index)
    if len(id2label) != len(LABELS) or set(columns) != set(LABELS):
        generic = any(str(raw).upper().startswith("LABEL_") for raw in id2label.values())
        hint = "; generic names like LABEL_0 need an explicit label_map" if generic and label_map is None else ""
        raise ValueError(
            f"model labels {dict(id2label)} do not map one-to-one onto positive/negative/neutral{hint}"
        )
    return columns["positive"], columns["negative"], columns["neutral"]


def config_fingerprint(config: Any) -> str:
    """A short hash of the model config: the fallback identity when no revision is known."""
    text = config.to_json_string(use_diff=False) if hasattr(config, "to_json_string") else repr(config)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class FinBertSentiment:
    """Scores texts with a FinBERT-style classifier (positive/negative/neutral head)."""

    name = "finbert"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        model_id: str | None = None,
        revision: str | None = None,
        label_map: Mapping[str, str] | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if max_length < 2 or batch_size < 1:
            raise ValueError(f"max_length must be >= 2 and batch_size >= 1, got {max_length} and {batch_size}")
        config = model.config
        self._columns = label_columns(config.id2label, label_map)
        self._model = model.eval()  # dropout off: the same text must always get the same score
        self._tokenizer = tokenizer
        self._max_length = _effective_max_length(config, tokenizer, max_length)
        self._batch_size = batch_size
        model_id = model_id or str(getattr(config, "_name_or_path", "") or "finbert")
        # Older transformers put the hub commit on the config; 5.x no longer does, so the loader passes it.
        revision = revision or getattr(config, "_commit_hash", None) or f"config-{config_fingerprint(config)}"
        # Truncation and the label mapping change scores too, so they belong in the cache key.
        self.version = f"{model_id}@{revision};max_length={self._max_length};labels={_label_tag(self._columns)}"
        if is_int8(model):  # int8 scores differ slightly from fp32 ones: they must not share cache entries
            self.version += ";int8"

    def score(self, texts: Sequence[str]) -> list[Polarity]:
        if isinstance(texts, str):
            raise TypeError("score() takes a sequence of texts, not one string")
        texts = list(texts)
        # No words, no sentiment: an empty line is exactly neutral, as with the embedded model,
        # rather than whatever the classifier makes of [CLS] [SEP].
        results: dict[int, Polarity] = {i: NEUTRAL for i, text in enumerate(texts) if not text.strip()}
        wordy = [i for i in range(len(texts)) if i not in results]
        if not wordy:
            return [results[i] for i in range(len(texts))]
        # One tokenisation for bucketing and scoring: each batch pads the encodings it already has.
        encoded = self._tokenizer([texts[i] for i in wordy], truncation=True, max_length=self._max_length)
        for batch in self._buckets(encoded["input_ids"]):
            rows = {key: [values[j] for j in batch] for key, values in encoded.items()}
            results.update(zip((wordy[j] for j in batch), self._score_batch(rows), strict=True))
        return [results[i] for i in range(len(texts))]

    def _buckets(self, input_ids: list[list[int]]) -> list[list[int]]:
        """Indices grouped into batches of similar token length, so little compute goes to padding."""
        order = sorted(range(len(input_ids)), key=lambda i: len(input_ids[i]))
        return [order[start : start + self._batch_size] for start in range(0, len(order), self._batch_size)]

    def _score_batch(self, rows: dict[str, list[list[int]]]) -> list[Polarity]:
        inputs = self._tokenizer.pad(rows, padding=True, return_tensors="pt")
        device = next(self._model.parameters()).device
        with torch.inference_mode():
            logits = self._model(**{key: value.to(device) for key, value in inputs.items()}).logits
            probabilities = torch.softmax(logits.float(), dim=-1).cpu().tolist()
        positive, negative, neutral = self._columns
        return [Polarity(positive=row[positive], negative=row[negative], neutral=row[neutral]) for row in probabilities]


def quantize_int8(model: Any) -> Any:
    """The model with every Linear layer as dynamic int8 (weights int8, activations quantised per batch).

    In place, so a large model is not held twice while loading: pass a model nothing else scores with.

    Roughly 1.5-2x faster on CPU than fp32; labels agree with fp32 on >= 99% of sent_valid.csv
    (bench/sentiment_int8_agreement.py), which is why it is an opt-in setting, not the default.
    """
    import warnings

    with warnings.catch_warnings():
        # torch 2.x announces eager-mode quantisation's move to torchao; the API still works and
        # torchao would be a new dependency for one call.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
            model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def is_int8(model: Any) -> bool:
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    return any(isinstance(module, DynamicInt8Linear) for module in model.modules())


def _effective_max_length(config: Any, tokenizer: Any, requested: int) -> int:
    # Tokenizers saved without a limit report a huge model_max_length; the position table is the real bound.
    limits = [requested, getattr(config, "max_position_embeddings", requested)]
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and tokenizer_limit > 0:
        limits.append(tokenizer_limit)
    return min(limits)


def _label_tag(columns: tuple[int, int, int]) -> str:
    return "".join(str(c) for c in columns)
