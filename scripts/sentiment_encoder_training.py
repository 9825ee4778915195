"""Fine-tune the top layers of all-MiniLM-L6-v2 and a 3-way head on labelled texts (torch).

Used by scripts/train_embedded_sentiment.py; run time needs none of this (the shipped layers run
in numpy, intelligence/sentiment/encoder.py). The model is built from plain weight arrays (the
published ones through float16, exactly as the lower blocks ship; scripts/minilm_base.py), so the
lower layers seen in training are the ones the run time has. They stay frozen, so their outputs are
computed once and cached; only the top `layers` blocks and the head learn. Deterministic: one
thread, seeded shuffles and dropout, deterministic kernels. Needs the `finbert` extra.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from tqdm import tqdm

TRAIN_MAX_TOKENS = 64  # tweets are short; the rare longer one loses only its tail
EVAL_MAX_TOKENS = 128  # the run-time cap (EncoderShape.max_tokens)


@dataclass(frozen=True)
class FineTune:
    layers: int = 3  # top blocks that learn (of 6)
    epochs: float = 3.0
    learning_rate: float = 1e-4
    batch_size: int = 32
    weight_decay: float = 0.01
    warmup_share: float = 0.06
    seed: int = 20251213


def bert_from_weights(weights: Mapping[str, np.ndarray]) -> Any:
    """A transformers BertModel (eager attention, no pooler) holding `weights` (BertModel names)."""
    import torch
    from transformers import BertConfig, BertModel

    vocab, hidden = weights["embeddings.word_embeddings.weight"].shape
    layers = 1 + max(int(name.split(".")[2]) for name in weights if name.startswith("encoder.layer."))
    config = BertConfig(
        vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=hidden // 32,
        intermediate_size=weights["encoder.layer.0.intermediate.dense.weight"].shape[0],
        max_position_embeddings=weights["embeddings.position_embeddings.weight"].shape[0],
        attn_implementation="eager",  # the classic additive mask, a public and stable contract
    )
    model = BertModel(config, add_pooling_layer=False)
    # The published checkpoint also holds a pooler (built without here) and position ids (a buffer
    # this transformers makes itself): neither is a weight of the model we train.
    state = {name: torch.from_numpy(np.asarray(value, dtype=np.float32)) for name, value in weights.items()
             if not name.startswith(("head.", "pooler.")) and name != "embeddings.position_ids"}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [name for name in missing if name != "embeddings.position_ids"]:
        raise ValueError(f"weights do not fit a BertModel: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return model.eval()


def tokenizer_from_file(path: Path, max_tokens: int) -> Any:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_file=str(path), pad_token="[PAD]", model_max_length=max_tokens)


def fine_tune(texts: Sequence[str], labels: np.ndarray, plan: FineTune, base: Mapping[str, np.ndarray],
              tokenizer_path: Path, start: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Weights of the trained top blocks (BertModel names) and the head, as float16 arrays.

    `labels` is (n,) class indices or (n, 3) target distributions (soft labels); `base` all of
    MiniLM's weights as the run time will have them below the trained blocks; `start` trained top
    blocks and head to continue from (a shipped encoder.npz), else the published blocks and a new head."""
    import torch

    torch.manual_seed(plan.seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tokenizer = tokenizer_from_file(tokenizer_path, TRAIN_MAX_TOKENS)
    model = bert_from_weights(base)
    total = model.config.num_hidden_layers
    first_trained = total - plan.layers
    started = time.time()
    hidden, masks = _lower_states(model, tokenizer, list(texts), first_trained, TRAIN_MAX_TOKENS)
    print(f"  cached the output of the {first_trained} frozen blocks in {time.time() - started:.0f} s", flush=True)
    top = torch.nn.ModuleList(model.encoder.layer[first_trained:])
    head = torch.nn.Linear(model.config.hidden_size, 3)
    if start is not None:
        prefix = "encoder.layer."
        for i, block in enumerate(top):
            names = {f"{prefix}{first_trained + i}.{name}": name for name in block.state_dict()}
            block.load_state_dict({name: torch.from_numpy(np.asarray(start[full], dtype=np.float32))
                                   for full, name in names.items()})
        head.load_state_dict({"weight": torch.from_numpy(np.asarray(start["head.weight"], dtype=np.float32)),
                              "bias": torch.from_numpy(np.asarray(start["head.bias"], dtype=np.float32))})
    params = list(top.parameters()) + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=plan.learning_rate, weight_decay=plan.weight_decay)
    steps = int(plan.epochs * len(texts) / plan.batch_size)
    warmup = max(1, int(plan.warmup_share * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps)
    )
    soft = np.asarray(labels).ndim == 2
    target = torch.as_tensor(labels, dtype=torch.float32 if soft else torch.long)
    generator = torch.Generator().manual_seed(plan.seed)
    top.train()
    head.train()
    step = 0
    # A bar on a terminal's stderr; in a log (no terminal) the lines every 100 steps instead.
    on_terminal = sys.stderr.isatty()
    bar = tqdm(total=steps, desc="fine-tuning MiniLM", unit="step", file=sys.stderr, disable=not on_terminal)
    while step < steps:
        order = torch.randperm(len(texts), generator=generator)
        for start in range(0, len(order) - plan.batch_size + 1, plan.batch_size):
            rows = order[start : start + plan.batch_size]
            mask = masks[rows]
            width = int(mask.sum(dim=1).max())
            logits = head(_top_forward(top, hidden[rows][:, :width], mask[:, :width]))
            # Cross-entropy takes class indices or, for soft labels, target probabilities alike.
            loss = torch.nn.functional.cross_entropy(logits, target[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            bar.update(1)
            if on_terminal:
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            elif step % 100 == 0:
                print(f"  step {step}/{steps} loss {loss.item():.3f} ({time.time() - started:.0f} s)", flush=True)
            if step >= steps:
                break
    bar.close()
    arrays = {
        f"encoder.layer.{first_trained + i}.{name}": value.detach().numpy().astype(np.float16)
        for i, block in enumerate(top)
        for name, value in block.state_dict().items()
    }
    arrays["head.weight"] = head.weight.detach().numpy().astype(np.float16)
    arrays["head.bias"] = head.bias.detach().numpy().astype(np.float16)
    return arrays


def _lower_states(model, tokenizer, texts: list[str], blocks: int, max_tokens: int):
    """Hidden states entering block `blocks` (0 = the embeddings), and the attention masks.

    Only the lower blocks run, on batches of similar length padded to their longest text (a padded
    key carries no attention weight), and the result is padded to `max_tokens` with zeros: a few
    times cheaper than running every block on `max_tokens` for every text."""
    import torch

    hidden_size = model.config.hidden_size
    states = torch.zeros((len(texts), max_tokens, hidden_size))
    masks = torch.zeros((len(texts), max_tokens), dtype=torch.long)
    order = np.argsort([len(t) for t in texts], kind="stable")
    layers = model.encoder.layer
    model.encoder.layer = layers[:blocks]
    model.eval()
    try:
        for start in range(0, len(texts), 128):
            rows = torch.as_tensor(order[start : start + 128])
            encoded = tokenizer([texts[i] for i in rows.tolist()], padding=True, truncation=True,
                                max_length=max_tokens, return_tensors="pt")
            with torch.inference_mode():
                out = model(**encoded, output_hidden_states=True)
            width = encoded["attention_mask"].shape[1]
            states[rows, :width] = out.hidden_states[blocks]
            masks[rows, :width] = encoded["attention_mask"]
    finally:
        model.encoder.layer = layers
    return states, masks


def _top_forward(blocks, hidden, mask):
    import torch

    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for block in blocks:
        result = block(hidden, attention_mask=additive)
        hidden = result[0] if isinstance(result, tuple) else result
    weights = mask.unsqueeze(-1).float()
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def torch_reference(texts: Sequence[str], weights: Mapping[str, np.ndarray], tokenizer_path: Path) -> np.ndarray:
    """The same classifier run by transformers: the check that the numpy forward pass matches.
    `weights`: every tensor of the model, base and trained blocks and head."""
    import torch

    tokenizer = tokenizer_from_file(tokenizer_path, EVAL_MAX_TOKENS)
    model = bert_from_weights(weights)
    head_w = torch.from_numpy(weights["head.weight"].astype(np.float32))
    head_b = torch.from_numpy(weights["head.bias"].astype(np.float32))
    rows = []
    for text in texts:
        encoded = tokenizer([text], truncation=True, max_length=EVAL_MAX_TOKENS, return_tensors="pt")
        with torch.inference_mode():
            vector = model(**encoded).last_hidden_state[0].mean(dim=0)
            rows.append(torch.softmax(vector @ head_w.T + head_b, dim=-1).numpy())
    return np.stack(rows).astype(np.float64)
