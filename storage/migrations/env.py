"""Alembic environment: the models' metadata, and the store from the caller, `-x url=` or TB_DATABASE_URL.

storage/migrate.py passes an open connection (config.attributes["connection"]) and owns its
transaction; the alembic command line opens its own.
"""
from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

import storage.db  # noqa: F401  (imports every model module, so the metadata is complete)
from storage.migrate import TARGET_METADATA, render_item

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from config import load_settings

    return load_settings().database_url


def _configure(**kwargs: Any) -> None:
    # Batch mode: SQLite alters a table by copying it, which later revisions need for most changes.
    context.configure(target_metadata=TARGET_METADATA, render_as_batch=True, compare_type=True,
                      render_item=render_item, **kwargs)


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
