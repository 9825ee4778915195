"""Engine and sessions: one place that knows how to open the store."""
from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Base
import storage.chat_models  # noqa: F401,E402  (registers the chat tables with Base for create_all)
import storage.eval_models  # noqa: F401,E402  (registers the signal outcome table with Base for create_all)
import storage.provider_models  # noqa: F401,E402  (registers feed validators and provider breakers)
import storage.trading_models  # noqa: F401,E402  (registers the orders, fills, audit and sim tables)

Sessions = sessionmaker[Session]


class StoreError(Exception):
    """The store cannot be opened; the message says which URL (without its password) and why."""


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_store(url: str) -> Sessions:
    """Sessions on `url`, schema created if missing."""
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open store {_safe(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    try:
        Base.metadata.create_all(engine)
    except Exception as exc:  # any driver error means the store is unusable: say why
        raise StoreError(f"cannot open store {_safe(url)}: {exc.__class__.__name__}: {exc}") from exc
    return sessionmaker(engine, expire_on_commit=False)


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"
