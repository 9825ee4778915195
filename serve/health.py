"""`health`: a quick look at the store, the serve process, the last cycle, the providers, the broker and
the chat channels. Each check is ok, warn (worth a look, not broken) or fail; any fail is unhealthy.
Every message is redacted: a token in an error from a channel never reaches the output."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Literal

import httpx

from redaction import redact
from config import Settings

if TYPE_CHECKING:
    from service.composition import App
    from service.operator import OperatorService
    from storage.db import Sessions

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if c.status == "fail"]


def check_health(settings: Settings, clock: Callable[[], datetime]) -> HealthReport:
    from storage.db import open_store
    from storage.errors import StoreError

    try:
        sessions = open_store(settings.database_url)
    except StoreError as exc:
        return HealthReport((Check("store", "fail", redact(str(exc))),))
    checks = [_store(sessions)]
    if checks[0].status == "fail":
        return HealthReport(tuple(checks))
    from service.composition import build_app

    app = build_app(settings, sessions=sessions, clock=clock)
    checks += [_serve(sessions, clock()), _last_cycle(app.service), *_providers(app.service, settings), _broker(app, settings)]
    checks += [*_channels(settings), _outbox(sessions, clock)]
    return HealthReport(tuple(checks))


def _store(sessions: Sessions) -> Check:
    from sqlalchemy import text

    from storage.migrate import current_revision, head_revision

    try:
        with sessions.kw["bind"].connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = current_revision(connection)
            dialect = connection.dialect.name
    except Exception as exc:  # any driver error: the store is not usable
        return Check("store", "fail", redact(f"{exc.__class__.__name__}: {exc}"))
    if revision != head_revision():
        return Check("store", "fail", f"schema at revision {revision}, expected {head_revision()}")
    return Check("store", "ok", f"{dialect}, schema at revision {revision}")


def _serve(sessions: Sessions, now: datetime) -> Check:
    from serve.lease import current_lease

    lease = current_lease(sessions)
    if lease is None or not lease.active(now):
        return Check("serve", "warn", "no serve process holds the trader lease (none is running)")
    age = (now - lease.heartbeat_at).total_seconds()
    return Check("serve", "ok", f"running as {lease.holder}, lease renewed {age:.0f} s ago")


def _last_cycle(service: OperatorService) -> Check:
    status = service.status()
    if status.last_run is None:
        return Check("cycle", "warn", "no cycle has run yet")
    when = f"{status.last_run:%Y-%m-%d %H:%M} UTC"
    if status.last_run_status == "failed":
        return Check("cycle", "fail", f"the last cycle ({when}) failed: {'; '.join(status.problems)}")
    if status.last_run_status == "degraded":
        return Check("cycle", "warn", f"the last cycle ({when}) was degraded: {'; '.join(status.problems)}")
    return Check("cycle", "ok", f"the last cycle ({when}) was {status.last_run_status}")


def _providers(service: OperatorService, settings: Settings) -> list[Check]:
    from providers.circuit import BreakerState

    live = settings.news_sources != ["embedded"] or settings.market_data != "embedded"
    found = [] if live else [Check("providers", "ok", "the embedded snapshot (no live provider to fail)")]
    for breaker in service.data_providers():
        name = f"provider {breaker.name}"
        if breaker.state is BreakerState.OPEN:
            retry = f", next try {breaker.retry_at:%H:%M} UTC" if breaker.retry_at else ""
            found.append(Check(name, "fail", f"circuit open after {breaker.failures} failure(s){retry}: "
                                             f"{breaker.last_error or 'no error recorded'}"))
        elif breaker.state is BreakerState.HALF_OPEN:
            found.append(Check(name, "warn", f"circuit half-open (the next cycle tries it once): {breaker.last_error}"))
        else:
            found.append(Check(name, "ok", "circuit closed"))
    if live and not found:
        found.append(Check("providers", "warn", "no cycle has called the live providers yet"))
    return found


def _broker(app: App, settings: Settings) -> Check:
    from trading.broker import BrokerError

    if settings.trading_mode == "simulated":
        return Check("broker", "ok", "simulated (no Alpaca keys)")
    try:
        app.desk()  # builds the broker it trades through
        assert app.broker is not None
        account = app.broker.account()
    except BrokerError as exc:
        return Check("broker", "fail", redact(f"Alpaca ({settings.trading_mode}): {exc}"))
    return Check("broker", "ok", f"Alpaca {settings.trading_mode}, equity {account.equity:,.2f}")


def _channels(settings: Settings) -> list[Check]:
    from bot.telegram_app import bot_api_urls

    checks = []
    timeout = httpx.Timeout(settings.chat_timeout_seconds)
    if settings.telegram_token is not None:
        base, _ = bot_api_urls(settings.telegram_base_url)
        url = f"{base}{settings.telegram_token.get_secret_value()}/getMe"
        checks.append(_http_check("telegram", url, timeout, lambda body: f"bot @{body['result']['username']}"))
    if settings.discord_webhook_url is not None:
        url = settings.discord_webhook_url.get_secret_value()
        checks.append(_http_check("discord", url, timeout, lambda body: f"webhook {body.get('name') or body['id']}"))
    if not checks:
        checks.append(Check("chat", "warn", "no chat channel configured (TB_TELEGRAM_TOKEN, TB_DISCORD_WEBHOOK_URL)"))
    return checks


def _http_check(name: str, url: str, timeout: httpx.Timeout, describe: Callable[[dict[str, Any]], str]) -> Check:
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return Check(name, "fail", redact(f"not reachable: {exc.__class__.__name__}: {exc}"))
    if response.status_code in (401, 403, 404):
        return Check(name, "fail", f"the credentials were refused (HTTP {response.status_code})")
    if response.status_code >= 400:
        return Check(name, "fail", f"answered HTTP {response.status_code}")
    try:
        return Check(name, "ok", describe(response.json()))
    except (ValueError, KeyError, TypeError):
        return Check(name, "fail", "answered something that is not its API")


def _outbox(sessions: Sessions, clock: Callable[[], datetime]) -> Check:
    """Messages that could not be delivered: failed ones (kept) and ones being retried."""
    from bot.outbox import Outbox

    outbox = Outbox(sessions, clock)
    counts, retried = outbox.counts(), [p for p in outbox.pending() if p.attempts]
    if retried:
        return Check("outbox", "warn", f"{len(retried)} message(s) being retried, {counts.get('pending', 0)} pending")
    if counts.get("failed"):
        return Check("outbox", "warn", f"{counts['failed']} message(s) could not be delivered (kept as failed)")
    return Check("outbox", "ok", f"{counts.get('pending', 0)} pending, {counts.get('sent', 0)} sent")
