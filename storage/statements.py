"""Running an UPDATE or DELETE and learning how many rows it touched, typed.

SQLAlchemy's `Session.execute` is typed as returning a plain `Result`; for data-changing statements
it is a `CursorResult`, whose `rowcount` the compare-and-set updates (leases, proposals, the audit
head) decide on.
"""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Update
from sqlalchemy.orm import Session


def rows_changed(session: Session, statement: Update | Delete) -> int:
    result = cast("CursorResult[Any]", session.execute(statement))
    return int(result.rowcount)
