"""Creating a row that may already exist, safely when several processes start at once."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def insert_missing(session: Session, model: type, **values: Any) -> None:
    """INSERT that does nothing when the primary key is taken (by a racing process): first writer wins."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    else:  # no portable upsert: a lost race surfaces as an IntegrityError, and a retry succeeds
        session.add(model(**values))
        session.flush()
        return
    session.execute(insert(model).values(**values).on_conflict_do_nothing())
