"""The store's schema comes from the Alembic revisions in storage/migrations, on every backend.

`prepare_schema` brings a store to the newest revision when it is opened: nothing to do when it is
there already (one query), the revisions otherwise, run in one transaction under a lock so that two
processes starting on the same store migrate it once. A store made before there were migrations
(by create_all) is adopted: what it lacks of the models is added, then it is stamped as the newest.
"""
from __future__ import annotations

import ast
import logging
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Literal, TYPE_CHECKING

from sqlalchemy import Column, inspect, text
from sqlalchemy.engine import Connection, Engine

from storage.models import Base, UTCDateTime

if TYPE_CHECKING:  # alembic loads only when a store needs migrating: opening an up-to-date one is one query
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# Any fixed number: the PostgreSQL advisory lock that serialises migrations across processes.
_PG_LOCK_KEY = 0x7B_5E_12_01
TARGET_METADATA = Base.metadata  # every model module registers with it (storage/db.py imports them all)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Revisions spell our UTC type as the column type it stores, so they do not import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision. Read from the revision files' own `revision` and `down_revision` lines when they
    form one chain (no alembic import, which costs every command about 0.15 s); alembic decides otherwise."""
    return _declared_head() or _alembic_head()


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no revision in {MIGRATIONS_DIR}"
    return head


def _declared_head() -> str | None:
    """The one revision no other revision revises, or None when the files are not a plain chain."""
    revises: dict[str, set[str]] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = _assignments(ast.parse(path.read_text(encoding="utf-8")), ("revision", "down_revision"))
        if not isinstance(found.get("revision"), str) or "down_revision" not in found:
            return None
        down = found["down_revision"]
        revises[found["revision"]] = {down} if isinstance(down, str) else set(down or ())
    heads = set(revises) - set().union(*revises.values()) if revises else set()
    return heads.pop() if len(heads) == 1 else None


def _assignments(module: ast.Module, names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue  # not a literal: leave the decision to alembic
    return values


def current_revision(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _stored_revision(connection: Connection) -> str | None:
    """What alembic would call the current revision when there is exactly one, read without alembic."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def prepare_schema(engine: Engine) -> None:
    """Upgrade the store to the newest revision (idempotent; safe with concurrent openers)."""
    with engine.connect() as connection:
        if _stored_revision(connection) == head_revision():
            return
    from alembic import command
    with _exclusive(engine) as connection:
        current = current_revision(connection)  # another process may have migrated while we waited
        if current == head_revision():
            return
        if current is None and _has_our_tables(connection):
            _adopt(connection)
            return
        command.upgrade(alembic_config(connection), "head")
        log.info("store schema upgraded from %s to %s", current or "empty", head_revision())


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction that no other migrator can enter at the same time."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Takes the write lock now (a second process waits, then sees the new head), and makes the
            # whole schema one commit instead of one per statement.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def _has_our_tables(connection: Connection) -> bool:
    return bool(set(inspect(connection).get_table_names()) & set(TARGET_METADATA.tables))


def _adopt(connection: Connection) -> None:
    """A pre-migration store: add the tables and nullable columns the models have and it lacks, then stamp
    it as the newest revision (tests/test_migrations.py proves the models and the revisions agree)."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    operations = Operations(MigrationContext.configure(connection))
    for diff in compare_metadata(MigrationContext.configure(connection), TARGET_METADATA):
        if isinstance(diff, tuple) and diff[0] == "add_table":
            diff[1].create(connection)
        elif isinstance(diff, tuple) and diff[0] == "add_column":
            _, _, table, column = diff
            added: Column[Any] = column.copy()
            added.nullable = True  # rows already there have no value for it
            operations.add_column(table, added)
    command.stamp(alembic_config(connection), "head")
    log.warning("adopted a store made before migrations; stamped revision %s", head_revision())
