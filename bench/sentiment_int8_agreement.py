"""Does int8 FinBERT (TB_FINBERT_QUANTIZE) give the fp32 model's labels? Agreement on sent_valid.csv, and the speed-up.

The setting ships only because this agreement is >= 99%. Both models come from the product's loader
(providers/sentiment_models.py load_finbert, fp32 and quantize=True) and score every text of
../shared/data/sentiment/sent_valid.csv with the product's batching. FinBERT's weights are not on
this machine, so the checkpoint is the one bench/sentiment_throughput.py builds: all-MiniLM-L6-v2
under a seeded 3-way head. Its labels mean nothing, but its margins are small (the head is untrained),
so a label flip from int8 rounding shows here sooner than it would with FinBERT's confident head.
Prints figures, asserts nothing. Run: .venv/bin/python bench/sentiment_int8_agreement.py
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from measure import SHARED_DATA, emit, load_average, use_product
from sentiment_throughput import build_model

VALID = SHARED_DATA / "sentiment" / "sent_valid.csv"


def read_texts(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def timed_score(backend, texts: list[str]) -> tuple[list, float]:
    began = time.perf_counter()
    scores = backend.score(texts)
    return scores, time.perf_counter() - began


def margin(p) -> float:
    top, second = sorted((p.positive, p.negative, p.neutral))[:-3:-1]
    return top - second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved timing runs of each model (default 2)")
    args = parser.parse_args()
    if not VALID.is_file():
        print(f"no validation set at {VALID}", file=sys.stderr)
        return 2
    use_product(Path(__file__).resolve().parent.parent)
    texts = read_texts(VALID)
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(scratch) / "model"
        note = build_model(model_dir)
        import torch

        from providers.sentiment_models import load_finbert

        fp32 = load_finbert(str(model_dir))
        int8 = load_finbert(str(model_dir), quantize=True)
        for backend in (fp32, int8):
            backend.score(texts[:32])  # first call allocates; not counted
        seconds: dict[str, list[float]] = {"fp32": [], "int8": []}
        for _ in range(args.repeat):  # interleaved, so a burst of load from others hits both alike
            reference, took = timed_score(fp32, texts)
            seconds["fp32"].append(took)
            quantized, took = timed_score(int8, texts)
            seconds["int8"].append(took)
    agree = sum(a.label == b.label for a, b in zip(reference, quantized, strict=True)) / len(texts)
    flips = Counter(f"{a.label}->{b.label}" for a, b in zip(reference, quantized) if a.label != b.label)
    drift = max(abs(getattr(a, k) - getattr(b, k)) for a, b in zip(reference, quantized) for k in ("positive", "negative", "neutral"))
    fp32_hps = len(texts) / statistics.median(seconds["fp32"])
    int8_hps = len(texts) / statistics.median(seconds["int8"])
    result = {"texts": len(texts), "label_agreement": agree, "max_probability_drift": drift,
              "median_fp32_margin": statistics.median(margin(p) for p in reference),
              "fp32_labels": dict(Counter(p.label for p in reference)), "flips": dict(flips),
              "fp32_hps": fp32_hps, "int8_hps": int8_hps,
              "speedup": int8_hps / fp32_hps, "threads": torch.get_num_threads()}
    print(f"model: {note}; {result['threads']} torch thread(s); load {load_average()}")
    print(f"sent_valid.csv: {len(texts)} texts; fp32 labels {result['fp32_labels']}, "
          f"median top-two margin {result['median_fp32_margin']:.3f}")
    print(f"  int8 labels agree with fp32 on {agree:.2%} of texts (the setting needs >= 99%); "
          f"largest probability change {drift:.4f}; flips {dict(flips)}")
    print(f"  fp32 {fp32_hps:7.1f} texts/s, int8 {int8_hps:7.1f} texts/s: {result['speedup']:.2f}x "
          f"(medians of {args.repeat} interleaved runs)")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
