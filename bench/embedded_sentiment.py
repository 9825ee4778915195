"""The embedded sentiment model: accuracy per stage, and what it costs a cycle.

Accuracy and macro-F1 of the shipped model (and of each of its parts: the n-gram model alone, the
MiniLM encoder alone, the full stack with the rules) on
  - sent_valid: the tweet validation file (../shared/data/sentiment/sent_valid.csv, 2,388 rows),
  - the news check set: 524 real news headlines and sentences labelled by hand
    (tests/data/news_sentences_check.csv; small, see tests/data/SOURCES.md), and its second draw
    alone, 170 headlines: there also the share of clearly positive or negative headlines that get
    their polar label (the rest are mostly false neutrals).
Cost, in a fresh process each time: loading the model (imports included), scoring the 152 headlines
of the embedded feeds the first time, then again (model loaded), and a cycle's warm path through the
store's score cache (pipeline/cycle.py score_headlines). Prints figures, asserts nothing.
Run: .venv/bin/python bench/embedded_sentiment.py [--repeat N] [--root DIR] [--before DIR] [--valid CSV]
(--root: another checkout, e.g. one taken before a change; its model, this tree's check set. --before: a
second checkout measured in the same run, side by side: e.g. --before /work/main.)
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from measure import ROOT, SHARED_DATA, checked, clean_env, emit, load_average, median, product_root, run_child, use_product

VALID = SHARED_DATA / "sentiment" / "sent_valid.csv"
NEWS = ROOT / "tests" / "data" / "news_sentences_check.csv"


def side_cost(work: Path) -> dict:
    began = time.perf_counter()
    from providers.sentiment_models import load_backend

    backend = load_backend("embedded", "unused").backend
    load = time.perf_counter() - began
    from pipeline.cycle import score_headlines
    from providers.feeds import read_feed_directory
    from storage.db import open_store

    headlines = read_feed_directory().headlines
    texts = [h.title for h in headlines]
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        backend.score(texts)
        timings.append(time.perf_counter() - began)
    sessions = open_store(f"sqlite:///{work / 'scores.db'}")
    passes = []
    for _ in range(2):  # a cycle that scores, then the next one over the same headlines
        began = time.perf_counter()
        with sessions.begin() as session:
            score_headlines(session, backend, headlines)
        passes.append(time.perf_counter() - began)
    return {"load_seconds": load, "first_score_seconds": timings[0], "again_seconds": timings[1],
            "cycle_cold_seconds": passes[0], "cycle_warm_seconds": passes[1], "headlines": len(texts),
            "torch_imported": "torch" in sys.modules}


def side_accuracy(valid: Path) -> dict:
    import csv

    sys.path.insert(0, str(ROOT / "scripts"))
    from sentiment_fitting import metrics, polar_labels, read_labelled, read_news

    from providers.embedded_sentiment import load_embedded_backend

    model = load_embedded_backend()
    results = {}
    news_texts, news_labels = read_news(NEWS)
    with NEWS.open(newline="", encoding="utf-8") as handle:
        rows = [i for i, row in enumerate(csv.DictReader(handle)) if row["source"].endswith("-headline")]
    headlines = ([news_texts[i] for i in rows], news_labels[rows])
    results["polar_headlines"] = polar_labels(model.probabilities(headlines[0]), headlines[1])
    for name, (texts, labels) in (("sent_valid", read_labelled(valid)), ("news_check", (news_texts, news_labels)),
                                  ("news_check_headlines", headlines)):
        if hasattr(model, "stages"):  # one pass over the encoder
            ngram, encoded, final = model.stages(texts)
            parts = {"model": final, "ngram_only": ngram, **({"encoder_only": encoded} if encoded is not None else {})}
        else:  # a checkout from before stages() existed
            parts = {"model": model.probabilities(texts), "ngram_only": model.base_probabilities(texts)}
            encoder = getattr(model, "_encoder", None)
            if encoder is not None:
                parts["encoder_only"] = encoder(texts)
        results[name] = {part: {k: v for k, v in metrics(p, labels).items() if k in ("rows", "accuracy", "macro_f1", "f1")}
                         for part, p in parts.items()}
    results["polar_headlines"] = results.pop("polar_headlines")
    return {"version": model.version, "results": results}


def _child(root: Path, *args: str) -> dict:
    argv = [sys.executable, str(Path(__file__).resolve()), "--root", str(root), *args]
    run = checked(run_child(argv, env=clean_env()), f"embedded sentiment side {args[1]}")
    return json.loads(run.stdout.strip().splitlines()[-1]) | {"peak_mb": run.peak_mb}


COST_KEYS = ("load_seconds", "first_score_seconds", "again_seconds", "cycle_cold_seconds", "cycle_warm_seconds", "peak_mb")


def print_side(title: str, accuracy: dict, runs: list[dict]) -> dict:
    cost = {key: median([r[key] for r in runs]) for key in COST_KEYS}
    print(f"{title}model {accuracy['version']}")
    results = dict(accuracy["results"])
    polar = results.pop("polar_headlines")
    for name, parts in results.items():
        for part, m in parts.items():
            print(f"  {name:10s} {part:12s} accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  "
                  f"(n={m['rows']}; F1 {m['f1']})")
    print(f"  clearly positive or negative headlines (n={polar['rows']}): right label {polar['right_label']:.4f}, "
          f"called neutral {polar['called_neutral']:.4f}")
    n = runs[0]["headlines"]
    print(f"  cost, medians of {len(runs)} fresh processes ({n} embedded-feed headlines; torch imported: "
          f"{runs[0]['torch_imported']}):")
    print(f"  load {cost['load_seconds']:.2f} s; score {n}: first {cost['first_score_seconds']:.2f} s, "
          f"again {cost['again_seconds']:.2f} s ({n / cost['again_seconds']:.0f} headlines/s)")
    print(f"  a cycle through the score cache: first pass {cost['cycle_cold_seconds']:.2f} s "
          f"({n / cost['cycle_cold_seconds']:.0f} headlines/s), cached {cost['cycle_warm_seconds'] * 1000:.1f} ms "
          f"({n / cost['cycle_warm_seconds']:.0f} headlines/s); peak {cost['peak_mb']:.0f} MB")
    return {"accuracy": accuracy["results"], **cost}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes for the cost figures (medians)")
    parser.add_argument("--side", choices=("cost", "accuracy"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose model is measured")
    parser.add_argument("--before", type=Path,
                        help="another checkout measured in the same run (its cost runs alternate with --root's)")
    parser.add_argument("--valid", type=Path, default=VALID, help="sent_valid.csv (default: ../shared/data)")
    args = parser.parse_args()
    use_product(product_root())
    if args.side == "cost":
        print(json.dumps(side_cost(args.work)))
        return 0
    if args.side == "accuracy":
        print(json.dumps(side_accuracy(args.valid)))
        return 0
    if not args.valid.is_file():
        print(f"no {args.valid}", file=sys.stderr)
        return 2
    roots = {"before": args.before, "after": args.root} if args.before else {"": args.root}
    accuracy = {name: _child(root, "--side", "accuracy", "--valid", str(args.valid)) for name, root in roots.items()}
    runs: dict[str, list[dict]] = {name: [] for name in roots}
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(args.repeat):
            for name, root in roots.items():  # alternated, so a busy spell on the machine hits both sides
                work = Path(scratch) / f"{name}{number}"
                work.mkdir()
                runs[name].append(_child(root, "--side", "cost", "--work", str(work)))
    print(f"load {load_average()}")
    result = {name: print_side(f"{name} ({roots[name]}): " if name else "", accuracy[name], runs[name])
              for name in roots}
    emit(result if args.before else result[""])
    return 0


if __name__ == "__main__":
    sys.exit(main())
