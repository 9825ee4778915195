"""The schema comes from the Alembic revisions, and the revisions match the models exactly, on both backends."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, select, text

from storage.db import StoreError, open_store
from storage.migrate import alembic_config, current_revision, head_revision, prepare_schema
from storage.models import Base, StateRow
from tests.conftest import utc
from tests.pg_fixtures import database_url, pg_databases, pytest_generate_tests, store_backend  # noqa: F401

MIGRATIONS = Path(__file__).resolve().parent.parent / "storage" / "migrations"


def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()


def test_the_revisions_make_exactly_the_models_schema(database_url: str) -> None:
    sessions = open_store(database_url)
    with sessions.kw["bind"].connect() as connection:
        assert current_revision(connection) == head_revision()
        tables = set(inspect(connection).get_table_names())
    assert set(Base.metadata.tables) | {"alembic_version"} == tables
    assert _diff(database_url) == []  # autogenerate would write an empty revision: nothing to migrate


def test_every_model_table_is_created_by_a_revision_not_by_create_all(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    open_store(database_url)  # and back up again, through the path every command takes
    assert _diff(database_url) == []


def test_opening_again_keeps_the_data_and_does_no_work(database_url: str) -> None:
    sessions = open_store(database_url)
    with sessions.begin() as session:
        session.add(StateRow(key="k", value="v", updated_at=utc(2026, 1, 1), updated_by="test"))
    again = open_store(database_url)
    with again() as session:
        assert session.scalar(select(StateRow.value)) == "v"


def test_a_store_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    # As create_all made it before this change: no leases table, no version table.
    Base.metadata.create_all(engine, tables=[t for t in Base.metadata.sorted_tables if t.name != "leases"])
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO state (key, value, updated_at, updated_by) "
                                "VALUES ('trading', 'ACTIVE', '2026-01-01 00:00:00.000000', 'x')"))
    engine.dispose()
    sessions = open_store(url)
    with sessions() as session:
        assert session.scalar(select(StateRow.value).where(StateRow.key == "trading")) == "ACTIVE"
    assert _diff(url) == []
    with sessions.kw["bind"].connect() as connection:
        assert current_revision(connection) == head_revision()


def test_two_processes_opening_a_new_store_at_once_migrate_it_once(database_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_it() -> None:
        engine = create_engine(database_url)
        try:
            barrier.wait()
            prepare_schema(engine)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert _diff(database_url) == []


def test_an_unusable_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot open store sqlite:///.*missing/dir/tb.db"):
        open_store(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'tb.db'}")
    with pytest.raises(StoreError, match=r"postgresql\+psycopg://tb:\*\*\*@127.0.0.1:9/tb"):
        open_store("postgresql+psycopg://tb:hunter2secret@127.0.0.1:9/tb?connect_timeout=2")


def test_the_revisions_are_reviewed_files_that_name_no_app_type() -> None:
    revisions = sorted((MIGRATIONS / "versions").glob("*.py"))
    assert revisions and revisions[0].name.startswith("0001")
    for path in revisions:
        source = path.read_text()
        # A revision is history: it must not change when app code does (so no import of our types).
        assert "UTCDateTime(" not in source and "import storage" not in source and "from storage" not in source, path.name
        assert len(source.splitlines()) < 400, path.name


def test_a_postgresql_server_that_dropped_its_connections_is_used_again(pg_databases) -> None:  # noqa: F811
    if pg_databases is None:
        pytest.skip("needs a PostgreSQL server (TB_TEST_DATABASE_URL)")
    url = pg_databases.create()
    try:
        sessions = open_store(url)
        with sessions() as session:
            assert session.scalar(text("SELECT 1")) == 1  # a pooled connection now exists
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # what a server restart or an idle timeout does to the pool
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        admin.dispose()
        with sessions() as session:
            assert session.scalar(text("SELECT 1")) == 1
        sessions.kw["bind"].dispose()
    finally:
        pg_databases.drop(url)


def _unmigrated(database_url: str) -> None:
    """No tables at all: a PostgreSQL test database is a copy of a migrated template, SQLite's a new file."""
    if make_url(database_url).get_backend_name() == "postgresql":
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def test_signals_stored_before_fingerprints_get_the_key_new_ones_get(database_url: str) -> None:
    from storage.models import SignalRow
    from storage.signal_keys import signal_fingerprint

    from sqlalchemy import JSON, DateTime, Float, Integer, String, column, table

    runs = table("runs", column("id", Integer), column("started_at", DateTime(timezone=True)), column("status", String),
                 column("sentiment_backend", String), column("headline_count", Integer), column("problems", JSON))
    signals = table("signals", *(column(name, kind) for name, kind in (
        ("run_id", Integer), ("symbol", String), ("as_of", DateTime(timezone=True)), ("direction", String),
        ("probability", Float), ("conviction", Float), ("horizon_hours", Float), ("narrative_score", Float),
        ("price_score", Float), ("divergence", Float), ("reason_codes", JSON), ("evidence", String), ("features", JSON))))
    _unmigrated(database_url)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
        connection.execute(runs.insert().values(id=1, started_at=utc(2025, 12, 13, 10, 14), status="ok",
                                                sentiment_backend="embedded", headline_count=0, problems=[]))
        for n, features in enumerate(({"narrative": {"headlines": [{"id": "b"}, {"id": "a"}]}}, {})):
            connection.execute(signals.insert().values(
                run_id=1, symbol="ETH", as_of=utc(2025, 12, 13, 10, 10 + n), direction="BUY", probability=0.6, conviction=0.5,
                horizon_hours=24.0, narrative_score=0.3, price_score=-0.1, divergence=0.4, reason_codes=[], evidence="",
                features=features))
    engine.dispose()
    sessions = open_store(database_url)  # upgrades to the head
    with sessions() as session:
        stored = [(r.fingerprint, signal_fingerprint(r.symbol, r.direction, r.as_of, r.features))
                  for r in session.scalars(select(SignalRow).order_by(SignalRow.id))]
    assert [old for old, _ in stored] == [new for _, new in stored] and len(set(stored)) == 2
    assert stored[0][0] == signal_fingerprint("ETH", "BUY", None, {"narrative": {"headlines": [{"id": "a"}, {"id": "b"}]}})


def test_subscriptions_made_before_silent_keep_their_sound(database_url: str) -> None:
    from sqlalchemy import BigInteger, Boolean, DateTime, String, column, table

    from storage.chat_models import ChatSubscription

    subscriptions = table("chat_subscriptions", *(column(name, kind) for name, kind in (
        ("chat_id", BigInteger), ("active", Boolean), ("digest_time", String), ("timezone", String),
        ("immediate_alerts", Boolean), ("created_at", DateTime(timezone=True)), ("updated_at", DateTime(timezone=True)),
        ("updated_by", String))))
    _unmigrated(database_url)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0007")  # the head before chat_subscriptions.silent
        connection.execute(subscriptions.insert().values(
            chat_id=42, active=True, digest_time="08:00", timezone="UTC", immediate_alerts=True,
            created_at=utc(2025, 12, 13, 10, 14), updated_at=utc(2025, 12, 13, 10, 14), updated_by="telegram:1"))
    engine.dispose()
    sessions = open_store(database_url)  # upgrades to the head
    with sessions() as session:
        row = session.get_one(ChatSubscription, 42)
        assert (row.silent, row.digest_time, row.immediate_alerts) == (False, "08:00", True)
