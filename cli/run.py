"""`run --once`: one cycle on the configured universe; prints the digest."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `--help` must not load pydantic
    from config import Settings

log = logging.getLogger("tracer_bullet")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="one cycle on the configured universe; prints the digest")
    run.add_argument("--once", action="store_true", help="run one cycle and exit")
    run.set_defaults(handler=cmd_run)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if not args.once:
        print("run needs --once (one cycle); the long-running assistant is `serve`.", file=sys.stderr)
        return 2
    from bot.message_model import plain
    from bot.messages import digest_doc
    from pipeline.cycle import CycleError, run_once
    from pipeline.data_sources import build_data_sources, data_secrets
    from providers.sentiment_models import SentimentLoadError, load_backend
    from redaction import register_secrets
    from service.composition import build_app, utcnow

    register_secrets(data_secrets(settings))  # before any provider logs a URL
    app = build_app(settings)
    sessions = app.sessions
    try:
        loaded = load_backend(settings.sentiment_backend, settings.finbert_model, quantize=settings.finbert_quantize)
    except SentimentLoadError as exc:
        print(f"cannot load the sentiment model: {exc}", file=sys.stderr)
        return 1
    if loaded.note:
        log.info(loaded.note)
    sources = build_data_sources(settings, sessions, utcnow)
    try:
        report = run_once(settings, sessions, loaded.backend, loaded.problems, sources.market, utcnow(), sources)
    except CycleError as exc:
        print(f"cycle failed: {exc}", file=sys.stderr)
        return 1
    finally:
        sources.close()
    print(plain(digest_doc(app.service.cycle_digest(report))))
    if settings.auto_approve_probability is not None:
        # The explicit auto-approve rule acts on the proposal this cycle made, through every guard.
        try:
            approved = app.service.trading_tick().auto_approved
        finally:
            app.close()
        if approved:
            print(f"Auto-approved proposal(s) {', '.join(f'#{i}' for i in approved)} (TB_AUTO_APPROVE_PROBABILITY).")
    return 0
