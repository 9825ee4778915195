"""What `serve` pays the store for: opening it (migrating a new one, checking an up-to-date one) and the
trader lease (taking and renewing it), on SQLite and, when TB_TEST_DATABASE_URL names a server, on
PostgreSQL (each run in a fresh database there).
Prints the figures; asserts nothing. Run: .venv/bin/python bench/store_lease.py [--renewals N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.composition import utcnow  # noqa: E402
from serve.lease import TRADER, Lease  # noqa: E402
from storage.db import open_store  # noqa: E402


def _ms(action: Callable[[], object], times: int = 1) -> list[float]:
    found = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        found.append((time.perf_counter() - start) * 1000)
    return found


def measure(name: str, fresh_url: Callable[[], str], renewals: int) -> None:
    url = fresh_url()
    migrate = _ms(lambda: open_store(url))[0]
    reopen = statistics.median(_ms(lambda: open_store(url), 5))
    sessions = open_store(url)
    lease = Lease(sessions, TRADER, "bench", timedelta(minutes=1), utcnow)
    take = _ms(lease.acquire)[0]
    renew = _ms(lease.acquire, renewals)
    other = Lease(sessions, TRADER, "standby", timedelta(minutes=1), utcnow)
    refused = _ms(other.acquire, renewals)
    print(f"{name:<10} migrate a new store {migrate:7.1f} ms   open an up-to-date one {reopen:6.1f} ms   "
          f"take the lease {take:5.1f} ms   renew median {statistics.median(renew):5.2f} ms "
          f"(p95 {sorted(renew)[int(len(renew) * 0.95)]:5.2f})   a standby's check median {statistics.median(refused):5.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renewals", type=int, default=200)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="tb-bench-"))
    counter = iter(range(1_000_000))
    measure("sqlite", lambda: f"sqlite:///{directory / f'store{next(counter)}.db'}", args.renewals)
    server = os.environ.get("TB_TEST_DATABASE_URL")
    if server:
        from tests.pg_fixtures import PgDatabases

        databases = PgDatabases(server)
        made: list[str] = []

        def fresh() -> str:
            # An empty database (not the template copy the tests use): this measures the migration.
            name = f"tbbench_{os.getpid()}_{next(counter)}"
            databases.execute(f'CREATE DATABASE "{name}"')
            made.append(databases.url_for(name))
            return made[-1]

        try:
            measure("postgresql", fresh, args.renewals)
        finally:
            for url in made:
                databases.drop(url)
            databases.close()


if __name__ == "__main__":
    main()
