"""`tracer-bullet sentiment`: one text per stdin line in, one JSON object per line out (DESIGN.md).

Every input line gets exactly one output line, in order, blank lines included (scored neutral), so
the output can be pasted beside the input. Lines are read and scored in chunks: output starts at
once and memory stays flat however long the input. Exit 0 on success; 1 when the model cannot be
loaded or the input is not UTF-8 (the message names the line; lines before it are already out).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import IO, TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings

CHUNK_LINES = 256  # large enough for FinBERT's length buckets to fill, small enough to stream
log = logging.getLogger("tracer_bullet.sentiment")


class InputError(Exception):
    """A line of standard input cannot be read as text."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sentiment", help="score one text per stdin line, JSON lines out",
        description="Reads one text per line on stdin and writes one JSON object per line: "
                    '{"text", "label", "positive", "negative", "neutral"}.',
    )
    parser.add_argument("--backend", choices=("auto", "finbert", "embedded"),
                        help="which model scores (default: TB_SENTIMENT_BACKEND, itself auto by default)")
    parser.set_defaults(handler=cmd_sentiment)


def cmd_sentiment(settings: Settings, args: argparse.Namespace) -> int:
    from providers.sentiment_models import SentimentLoadError, load_backend

    try:
        loaded = load_backend(args.backend or settings.sentiment_backend, settings.finbert_model,
                              quantize=settings.finbert_quantize)
    except SentimentLoadError as exc:
        print(f"sentiment: {exc}", file=sys.stderr)
        return 1
    if loaded.backend.name != "finbert" and (args.backend or settings.sentiment_backend) == "auto":
        print(f"sentiment: {loaded.note}", file=sys.stderr)  # one line: why not FinBERT, and what to do
    else:
        log.info(loaded.note)
    for problem in loaded.problems:
        print(f"sentiment: {problem}", file=sys.stderr)
    out = _utf8(sys.stdout)
    try:
        for chunk in _chunks(_lines(sys.stdin)):
            for text, polarity in zip(chunk, loaded.backend.score(chunk), strict=True):
                out.write(json.dumps({
                    "text": text, "label": polarity.label, "positive": polarity.positive,
                    "negative": polarity.negative, "neutral": polarity.neutral,
                }, ensure_ascii=False) + "\n")
            out.flush()
    except InputError as exc:
        out.flush()
        print(f"sentiment: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep the interpreter's final flush quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _utf8(stream: IO[str]) -> IO[str]:
    # JSON lines are UTF-8 whatever the locale says; a stream we cannot reconfigure is used as it is.
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="strict")
    return stream


def _lines(stream: IO[str]) -> Iterator[str]:
    """Each line without its terminator; bytes are decoded here so a bad line can be named."""
    source = getattr(stream, "buffer", None)
    if source is None:  # an in-memory text stream: already decoded
        for line in stream:
            yield line.rstrip("\r\n")
        return
    for number, raw in enumerate(source, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"line {number} of the input is not valid UTF-8 (byte {exc.start + 1})") from None
        if number == 1:
            line = line.removeprefix("\ufeff")  # a byte-order mark is not part of the first text
        yield line.removesuffix("\n").removesuffix("\r")


def _chunks(lines: Iterator[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    try:
        for line in lines:
            chunk.append(line)
            if len(chunk) == CHUNK_LINES:
                yield chunk
                chunk = []
    except InputError:
        if chunk:  # the good lines before the bad one still get their answers
            yield chunk
        raise
    if chunk:
        yield chunk
