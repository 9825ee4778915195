"""SQLite in WAL mode with synchronous=NORMAL for a checkout from before that was the store's default.

`enable()` sets both pragmas on every SQLite connection SQLAlchemy opens in this process (other
dialects are left alone). As a launcher, `python bench/sqlite_wal.py SCRIPT [ARGS...]` runs SCRIPT
(e.g. tracer_bullet.py) as __main__ with them set, so a whole command can be timed that way.
Why it matters: with SQLite's rollback journal and synchronous=FULL every commit waits for the disk
several times (~16 ms measured on this machine, against ~0.05 ms with WAL and synchronous=NORMAL).
storage/db.py now opens file stores in WAL mode; this separates that change from the others when
an older checkout is measured with --root.
"""
from __future__ import annotations

import runpy
import sys


def enable() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _wal(connection, _record):  # type: ignore[no-untyped-def]
        if type(connection).__module__.startswith("sqlite3"):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()


if __name__ == "__main__":
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = str(__import__("pathlib").Path(script).resolve().parent)  # as if SCRIPT had been run itself
    enable()
    runpy.run_path(script, run_name="__main__")
