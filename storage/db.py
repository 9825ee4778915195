"""Engine and sessions: one place that knows how to open the store (and bring its schema up to date)."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Base  # noqa: F401  (the metadata every model module below registers with)
import storage.chat_models  # noqa: F401,E402  (registers the chat tables with Base for create_all)
import storage.eval_models  # noqa: F401,E402  (registers the signal outcome table with Base for create_all)
import storage.provider_models  # noqa: F401,E402  (registers feed validators and provider breakers)
import storage.trading_models  # noqa: F401,E402  (registers the orders, fills, audit and sim tables)
import storage.llm_models  # noqa: F401,E402  (registers the Claude polarity cross-check table)
import storage.serve_models  # noqa: F401,E402  (registers the trader lease and the scheduler's jobs)
import storage.universe_models  # noqa: F401,E402  (registers the watchlist and the broker's asset lookups)
import storage.market_models  # noqa: F401,E402  (registers the prediction markets and their snapshots)
from storage.migrate import prepare_schema  # noqa: E402
from storage.errors import StoreBusy, StoreError, StoreUnavailable  # noqa: E402,F401

Sessions = sessionmaker[Session]


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_write_ahead_log(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # With the rollback journal every commit waits for the disk several times (~16 ms here), and a
    # chat command, an outbox delivery and a cycle each commit. In WAL mode with synchronous=NORMAL a
    # commit is an append (~0.05 ms) and readers never wait for a writer. The store stays consistent
    # whatever happens; what a power cut (not a crash of the program) may take is the last commits
    # before it, which restart reconciliation with the broker covers. PostgreSQL for more than that.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_store(url: str) -> Sessions:
    """Sessions on `url`, the schema migrated to the newest revision (storage/migrations) if it is not."""
    try:
        # A server store outlives connections (a restart, a failover, an idle timeout): test each one
        # before use rather than fail the first query of a process that has run for weeks.
        server = make_url(url).get_backend_name() != "sqlite"
        engine = create_engine(url, pool_pre_ping=server)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open store {_safe(url)}: {exc}") from exc
    event.listen(engine, "handle_error", _store_errors(_safe(url)))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        if make_url(url).database not in (None, "", ":memory:"):
            event.listen(engine, "connect", _sqlite_write_ahead_log)
    try:
        prepare_schema(engine)
    except StoreError as exc:  # translated by the hook below: said as a failure to open, kind kept
        cause = exc.__cause__ or exc
        hint = "; another process holds it, try again in a moment" if isinstance(exc, StoreBusy) else ""
        raise type(exc)(f"cannot open store {_safe(url)}: {_first_line(cause)}{hint}") from cause
    except Exception as exc:  # any driver error means the store is unusable: say why
        raise StoreError(f"cannot open store {_safe(url)}: {exc.__class__.__name__}: {exc}") from exc
    return sessionmaker(engine, expire_on_commit=False)


# What the drivers say when the store is held by another writer, and when it cannot be written or reached.
_BUSY = ("database is locked", "database table is locked", "database is busy", "lock timeout",
         "could not obtain lock", "deadlock detected")
_UNAVAILABLE = ("readonly database", "read-only", "unable to open database", "disk i/o error", "disk is full",
                "database or disk is full", "connection refused", "could not connect", "server closed the connection",
                "no such host", "could not translate host name", "connection timed out", "is the server running")


def _store_errors(shown_url: str) -> Callable[[ExceptionContext], None]:
    """A handle_error hook: a driver error that means the store is busy or unusable becomes StoreBusy or
    StoreUnavailable with one plain line (the original stays chained for the log); other errors (a
    constraint, a bug) pass through untouched, since code above handles or reports those itself."""

    def translate(context: ExceptionContext) -> None:
        if getattr(context, "is_pre_ping", False):
            return  # a dead pooled connection found by the ping: SQLAlchemy discards it and connects anew
        original = context.original_exception
        text = str(original).lower()
        if any(words in text for words in _BUSY):
            raise StoreBusy(f"the store {shown_url} is busy: another process has held it for longer than the "
                            f"wait allows ({_first_line(original)}); try again in a moment") from original
        if context.is_disconnect or any(words in text for words in _UNAVAILABLE):
            raise StoreUnavailable(f"the store {shown_url} cannot be used: {_first_line(original)}") from original

    return translate


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
