"""Tables of the long-running `serve`: who holds the trader lease, and the scheduler's persisted jobs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, String, Table, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime

# APScheduler's SQLAlchemyJobStore keeps its jobs here (its own column layout, repeated so that the
# migrations create the table like every other one instead of the job store at run time).
SCHEDULER_JOBS_TABLE = "scheduler_jobs"
scheduler_jobs = Table(
    SCHEDULER_JOBS_TABLE,
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class LeaseRow(Base):
    """A named lease: one `serve` process at a time trades, schedules and sends (serve/lease.py).

    Taken and renewed by one conditional UPDATE (or the first INSERT), so two processes can never
    both hold it; a holder that stops renewing loses it at `expires_at` and another may take over."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(160))  # host:pid:random, unique per process start
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
