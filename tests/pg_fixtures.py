"""Store backends for the tests: SQLite always, and PostgreSQL as well when TB_TEST_DATABASE_URL names a
server (`.ci/run` starts one with scripts/pg_cluster.sh). A test that uses a store then runs once per
backend, `test_x[sqlite]` and `test_x[postgresql]`, each on a fresh, migrated database.

Wiring (tests/conftest.py): `pytest_plugins = ("tests.pg_fixtures",)`, with its own `database_url`
fixture removed (the one here gives the same SQLite URL). The `store_backend` fixture is autouse; the
hook below parametrizes it only for tests that touch a store: those asking for `database_url` or
`db_url` (tests/trading_fixtures.py) and those of modules that use `chat_stack` (tests/chat_fixtures.py).
Until the plugin is wired, a test module can import these names (fixtures and hook) itself.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

# Read once at import: tests/conftest.py clears every TB_ variable before each test.
PG_URL = os.environ.get("TB_TEST_DATABASE_URL") or None
STORE_BACKENDS: tuple[str, ...] = ("sqlite", "postgresql") if PG_URL else ("sqlite",)
STORE_FIXTURES = ("database_url", "db_url")


class PgDatabases:
    """Fresh databases on the test server, each a copy of one migrated template: copying takes about
    50 ms where migrating takes about 400."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
        self._prefix = f"tbt_{os.getpid()}"
        self._numbers = itertools.count(1)
        self._template: str | None = None

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def execute(self, *statements: str) -> None:
        with self._admin.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))

    def template(self) -> str:
        if self._template is None:
            from storage.db import open_store

            name = f"{self._prefix}_template"
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
            open_store(self.url_for(name)).kw["bind"].dispose()  # no session may stay on a template
            self._template = name
        return self._template

    def create(self) -> str:
        name = f"{self._prefix}_{next(self._numbers)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template()}"')
        return self.url_for(name)

    def drop(self, url: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        if self._template is not None:
            self.execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
        self._admin.dispose()


class ActiveStore:
    """The backend of the running test; PostgreSQL databases are made on demand and dropped after it."""

    def __init__(self, backend: str, databases: PgDatabases | None) -> None:
        self.backend = backend
        self._databases = databases
        self._made: list[str] = []

    def pg_url(self) -> str:
        assert self._databases is not None
        url = self._databases.create()
        self._made.append(url)
        return url

    def cleanup(self) -> None:
        for url in self._made:
            assert self._databases is not None
            self._databases.drop(url)


_databases: PgDatabases | None = None
_active: ActiveStore | None = None


def _pg() -> PgDatabases:
    global _databases
    if _databases is None:
        assert PG_URL is not None
        _databases = PgDatabases(PG_URL)
    return _databases


def active_pg_url() -> str | None:
    """A fresh PostgreSQL database when the running test is on PostgreSQL, else None (use SQLite)."""
    if _active is None or _active.backend != "postgresql":
        return None
    return _active.pg_url()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    yield _pg() if PG_URL else None
    if _databases is not None:
        _databases.close()


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest, pg_databases: PgDatabases | None) -> Iterator[str]:
    global _active
    backend = getattr(request, "param", "sqlite")
    _active = ActiveStore(backend, pg_databases)
    try:
        yield backend
    finally:
        active, _active = _active, None
        active.cleanup()


@pytest.fixture
def database_url(store_backend: str, tmp_path: Path) -> str:
    if store_backend == "postgresql":
        url = active_pg_url()
        assert url is not None
        return url
    return f"sqlite:///{tmp_path / 'tb.db'}"


def uses_store(metafunc: pytest.Metafunc) -> bool:
    return any(name in metafunc.fixturenames for name in STORE_FIXTURES) or hasattr(metafunc.module, "chat_stack")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Both the plugin and a module importing this hook may call it for the same test: once is enough.
    if len(STORE_BACKENDS) < 2 or getattr(metafunc, "_tb_store_backends", False) or not uses_store(metafunc):
        return
    metafunc._tb_store_backends = True  # type: ignore[attr-defined]
    metafunc.parametrize("store_backend", STORE_BACKENDS, indirect=True, scope="function")
