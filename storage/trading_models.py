"""Tables of the trading module: what happened to each proposal, every order and fill, the audit chain,
account history and the simulated broker's own books (kept apart: reconciliation compares the two)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class ProposalEventRow(Base):
    """One row per move of a proposal (and per resize): the lifecycle with who and when."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class ProposalPlanRow(Base):
    """What the engine knew when it proposed: the suggested size, the stop and the data's age."""

    __tablename__ = "proposal_plans"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    suggested_quantity: Mapped[float] = mapped_column(Float)
    stop_distance: Mapped[float] = mapped_column(Float)  # fraction of price
    signal_as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    quote_time: Mapped[datetime] = mapped_column(UTCDateTime)  # end of the bar the reference price is from
    size_confirmed_by: Mapped[str | None] = mapped_column(String(64))


class OrderRow(Base):
    """Our side of every order: written before the broker hears of it, so a crash cannot lose one."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    role: Mapped[str] = mapped_column(String(16))  # entry | take_profit | stop_loss
    client_order_id: Mapped[str] = mapped_column(String(128), unique=True)
    broker: Mapped[str] = mapped_column(String(16))  # sim | alpaca
    broker_order_id: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(16), index=True)
    side: Mapped[str] = mapped_column(String(8))
    order_type: Mapped[str] = mapped_column(String(16))  # market | limit | stop
    quantity: Mapped[float] = mapped_column(Float)
    limit_price: Mapped[float | None] = mapped_column(Float)
    stop_price: Mapped[float | None] = mapped_column(Float)
    take_profit: Mapped[float | None] = mapped_column(Float)
    stop_loss: Mapped[float | None] = mapped_column(Float)
    # pending_submit | new | partially_filled | filled | canceled | rejected | expired | failed
    status: Mapped[str] = mapped_column(String(24), index=True)
    filled_quantity: Mapped[float] = mapped_column(Float, default=0.0)
    filled_avg_price: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FillRow(Base):
    """Each increase of an order's filled quantity, priced so that the order's average stays exact."""

    __tablename__ = "fills"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    fee: Mapped[float] = mapped_column(Float, default=0.0)
    filled_at: Mapped[datetime] = mapped_column(UTCDateTime)  # market time of the fill where known
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PositionRow(Base):
    """The broker's positions as last seen, so /positions can answer (marked stale) while it is down."""

    __tablename__ = "positions"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[float] = mapped_column(Float)  # signed: negative is short
    avg_price: Mapped[float] = mapped_column(Float)
    market_price: Mapped[float | None] = mapped_column(Float)
    broker: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountSnapshotRow(Base):
    """Equity over time: the day's starting equity and the peak for the loss and drawdown guards."""

    __tablename__ = "account_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # wall time
    market_time: Mapped[datetime] = mapped_column(UTCDateTime)
    broker: Mapped[str] = mapped_column(String(16))
    equity: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    gross_exposure: Mapped[float] = mapped_column(Float)


class AuditRow(Base):
    """Append-only decision log; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(48))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly what was hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class SimAccountRow(Base):
    """The simulated broker's cash and its market clock (history replayed at wall speed from an anchor)."""

    __tablename__ = "sim_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    cash: Mapped[float] = mapped_column(Float)
    fees: Mapped[float] = mapped_column(Float, default=0.0)
    market_anchor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wall_anchor: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SimOrderRow(Base):
    """An order as the simulated exchange holds it."""

    __tablename__ = "sim_orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(128), unique=True)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))
    order_type: Mapped[str] = mapped_column(String(16))  # market | limit | stop
    quantity: Mapped[float] = mapped_column(Float)
    limit_price: Mapped[float | None] = mapped_column(Float)
    stop_price: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(24), index=True)  # held | new | filled | canceled | rejected
    filled_quantity: Mapped[float] = mapped_column(Float, default=0.0)
    filled_avg_price: Mapped[float | None] = mapped_column(Float)
    submitted_market_time: Mapped[datetime] = mapped_column(UTCDateTime)
    filled_market_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    legs: Mapped[list[str]] = mapped_column(JSON, default=list)


class SimPositionRow(Base):
    __tablename__ = "sim_positions"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[float] = mapped_column(Float)  # signed
    avg_price: Mapped[float] = mapped_column(Float)


class AuditHeadRow(Base):
    """The chain's tip. Appends lock it first, so two writers cannot fork the chain, and a deleted
    tail is caught because the tip no longer matches the last row."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
