"""Shared setup for the serve tests: a settable clock and a ServeContext on a real store and runtime."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from serve import jobs
from pipeline.data_sources import build_data_sources
from serve.lease import TRADER, Lease
from bot.runtime import ChatRuntime, build_runtime
from config import Settings
from providers.sentiment_models import load_backend
from storage.db import Sessions
from tests.trading_fixtures import Clock  # noqa: F401  (the serve tests' settable clock, re-exported)


def serve_context(settings: Settings, sessions: Sessions, clock: Any, runtime: ChatRuntime | None = None,
                  hold: bool = True) -> jobs.ServeContext:
    """What serve's active side builds, activated for the jobs; `hold=False`: another process has the lease."""
    runtime = runtime or build_runtime(settings, sessions, clock)
    lease = Lease(sessions, TRADER, "test-holder", timedelta(seconds=settings.lease_seconds), clock)
    if hold:
        assert lease.acquire()
    else:
        Lease(sessions, TRADER, "someone-else", timedelta(hours=1), clock).acquire()
    context = jobs.ServeContext(settings, sessions, clock, runtime, lease, build_data_sources(settings, sessions, clock),
                                load_backend("embedded", "unused"))
    jobs.activate(context)
    return context
