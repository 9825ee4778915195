"""The operator service: plain Python returning data; the CLI and chat only parse and render."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar, cast

from sqlalchemy import select

from config import Settings
from service import chat_ops
from service.account import PositionLine, account_summary, position_lines
from service.evaluations import EvaluationSummaries
from service.proposal_card import ProposalCard, build_cards
from service.read_cache import ReadCache
from service.results import (
    ActionResult, ChartImage, ChartRefused, CloseResult, FlattenResult, KeepResult, Markets, StateChange, StatusReport,
)
from storage.db import Sessions
from storage.models import ProposalRow, Run
from trading.proposals import ProposalStatus, is_expired, transition
from trading.monitor import halted_by_guard
from trading.state import TradingState, read_state, write_state
from trading.views import (
    HeldView, OrderView, PnlView, PositionView, ProposalView, ReconcileView, proposal_view,
)

if TYPE_CHECKING:
    from eval.summary import WeeklySummary
    from pipeline.cycle import CycleReport
    from providers.circuit import BreakerSnapshot
    from service.charts import SymbolChart
    from service.watchlist import WatchlistService, WatchlistView, WatchResult
    from trading.desk import DeskResult, TickReport, TradingDesk
    from trading.views import DailyView, PerformanceRow, ProfitView, TradeView

Clock = Callable[[], datetime]
Charts = Callable[[str, datetime, float], "SymbolChart"]  # (symbol, now, days): service/charts.symbol_chart
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ServiceConfig:
    """The settings the operator service reads, and nothing else."""

    trading_mode: str
    sentiment_backend: str
    read_cache_seconds: float
    digest_time: str
    digest_timezone: str
    alert_conviction: float
    breaker_cooldown_seconds: float
    bars_dir: Path | None
    eval_runs_dir: Path
    take_profit_ratio: float  # where the bracket's target sits, for the proposal card
    starting_equity: float  # the simulated account's, until the broker has been asked
    horizon_exit: bool = True  # whether positions close at their signal's horizon (TB_HORIZON_EXIT)
    eval_fresh_seconds: float = 900.0  # /eval serves the last summary made while it is younger than this
    # The fees and slippage the evaluation's equity curve pays, per leg (TB_SIM_FEE_BPS, TB_SIM_SLIPPAGE_BPS).
    fee_bps: float = 10.0
    slippage_bps: float = 5.0
    polymarket: bool = False  # whether cycles read the prediction markets (TB_POLYMARKET)

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceConfig:
        return cls(settings.trading_mode, settings.sentiment_backend, settings.chat_read_cache_seconds,
                   settings.digest_time, settings.digest_timezone, settings.alert_conviction,
                   settings.breaker_cooldown_seconds, settings.bars_dir, settings.eval_runs_dir,
                   settings.take_profit_ratio, settings.sim_equity, settings.horizon_exit,
                   settings.chat_eval_fresh_minutes * 60, settings.sim_fee_bps, settings.sim_slippage_bps,
                   settings.polymarket)


def _changes(method: F) -> F:
    """A method that changes the store: cached answers are dropped when it returns (or fails halfway)."""
    @functools.wraps(method)
    def wrapper(self: "OperatorService", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.forget_reads()
    return cast(F, wrapper)


class OperatorService:
    """Built by the composition root (service/composition.py); `desk` gives the trading desk, which the
    root builds on first use (a status or a digest never needs the broker); `watchlist` the watchlist
    service and `charts` draws one asset's picture (both need the whole settings, which the root has)."""

    def __init__(self, config: ServiceConfig, sessions: Sessions, clock: Clock, desk: Callable[[], "TradingDesk"],
                 watchlist: Callable[[], "WatchlistService"] | None = None, charts: Charts | None = None) -> None:
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self._desk = desk
        self._watchlist = watchlist
        self._charts = charts
        self._reads = ReadCache(config.read_cache_seconds)
        self._evaluations = EvaluationSummaries(sessions, clock, config.bars_dir, config.eval_runs_dir, config.fee_bps,
                                                config.slippage_bps, config.eval_fresh_seconds)

    def forget_reads(self) -> None:
        """Drop cached answers (service/read_cache.py); for writers outside this service, e.g. serve's cycle."""
        self._reads.clear()

    def expire_stale(self) -> int:
        """Proposals nobody answered in time can no longer be approved; record that."""
        now = self._clock()
        with self._sessions.begin() as session:
            stale = [
                row for row in session.scalars(select(ProposalRow).where(ProposalRow.status == ProposalStatus.PROPOSED.value))
                if is_expired(row, now)
            ]
            for row in stale:
                transition(row, ProposalStatus.EXPIRED, "clock", now)
        return len(stale)

    def proposals(self, include_closed: bool = False) -> list[ProposalView]:
        return list(self._reads.get(("proposals", include_closed), lambda: tuple(self._proposals(include_closed))))

    def _proposals(self, include_closed: bool) -> list[ProposalView]:
        self.expire_stale()
        query = select(ProposalRow).order_by(ProposalRow.id.desc())
        if not include_closed:
            query = query.where(ProposalRow.status == ProposalStatus.PROPOSED.value)
        with self._sessions() as session:
            return [proposal_view(row) for row in session.scalars(query)]

    def proposal(self, proposal_id: int) -> ProposalView | None:
        with self._sessions() as session:
            row = session.get(ProposalRow, proposal_id)
            return proposal_view(row) if row is not None else None

    @_changes
    def ask_confirmation(self, user_id: int | None, chat_id: int | None, command: str, arguments: Sequence[str],
                         proposal_id: int | None) -> str:
        """Keep a question asked in chat under a short token (service/chat_ops.py)."""
        proposal = self.proposal(proposal_id) if proposal_id is not None else None
        return chat_ops.ask_confirmation(self._sessions, self._clock(), user_id, chat_id, command, arguments, proposal)

    @_changes
    def answer_confirmation(self, token: str, user_id: int | None, cancel: bool = False) -> chat_ops.Confirmation | str:
        return chat_ops.answer_confirmation(self._sessions, token, user_id, self._clock(), cancel)

    def proposal_cards(self, include_closed: bool = False) -> list[ProposalCard]:
        """Proposals as a trader decides on them (service/proposal_card.py), newest first."""
        return list(self._reads.get(("cards", include_closed), lambda: tuple(self._cards(include_closed))))

    def proposal_card(self, proposal_id: int) -> ProposalCard | None:
        with self._sessions() as session:
            row = session.get(ProposalRow, proposal_id)
            if row is None:
                return None
            return build_cards(session, [row], self._config.take_profit_ratio, self._config.starting_equity,
                               self._config.horizon_exit)[0]

    def _cards(self, include_closed: bool) -> list[ProposalCard]:
        self.expire_stale()
        query = select(ProposalRow).order_by(ProposalRow.id.desc())
        if not include_closed:
            query = query.where(ProposalRow.status == ProposalStatus.PROPOSED.value)
        with self._sessions() as session:
            return build_cards(session, list(session.scalars(query)), self._config.take_profit_ratio,
                               self._config.starting_equity, self._config.horizon_exit)

    def status(self) -> StatusReport:
        return self._reads.get("status", self._status)

    def _status(self) -> StatusReport:
        pending = tuple(self.proposals())
        with self._sessions() as session:
            state = read_state(session).state
            guard_halt = halted_by_guard(session)
            last = session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()
            account = account_summary(session)
        backend = last.sentiment_backend if last else f"{self._config.sentiment_backend} (no run yet)"
        return StatusReport(
            trading_state=state,
            mode=self._config.trading_mode,
            sentiment_backend=backend,
            last_run=last.started_at if last else None,
            last_run_status=last.status if last else None,
            last_as_of=last.as_of if last else None,
            degraded=bool(last and last.status in ("degraded", "failed")),
            problems=tuple(last.problems) if last else (),
            pending_proposals=pending,
            halted_by_guard=guard_halt,
            account=account,
        )

    @_changes
    def _set_state(self, state: TradingState, actor: str, kind: str) -> StateChange:
        from trading import audit

        from trading.ledger import open_orders

        now = self._clock()
        with self._sessions.begin() as session:
            before = read_state(session).state
            if before is not state:
                write_state(session, state, actor, now)
                audit.append(session, actor, kind, {"from": before.value}, now)
            protected = len({r.parent_id for r in open_orders(session) if r.role in ("take_profit", "stop_loss")})
        return StateChange(before, state, protected, self._config.horizon_exit)

    def pause(self, actor: str) -> StateChange:
        return self._set_state(TradingState.HALTED, actor, "trading.pause")

    # --- trading operations (approve, reject, size, positions, pnl, orders) ---
    # The work is in trading/desk.py; these turn its results into ActionResult with the proposal attached.

    def trading_desk(self) -> "TradingDesk":
        return self._desk()

    def _action(self, result: "DeskResult") -> ActionResult:
        proposal = None
        if result.proposal_id is not None:
            with self._sessions() as session:
                row = session.get(ProposalRow, result.proposal_id)
                proposal = proposal_view(row) if row is not None else None
        return ActionResult(result.ok, result.code, result.message, proposal, result.needs_confirmation, result.quantity)

    @_changes
    def approve(self, proposal_id: int, actor: str, confirm: bool = False) -> ActionResult:
        """Approve and submit once. EXPIRED, NOT_FOUND, NOT_PENDING, GUARD_* codes refuse; a size above the
        suggestion (not yet confirmed) comes back with needs_confirmation=True; a double approval is
        ok=True, code ALREADY_APPROVED, and sends nothing."""
        return self._action(self.trading_desk().approve(proposal_id, actor, confirm))

    @_changes
    def reject(self, proposal_id: int, actor: str) -> ActionResult:
        return self._action(self.trading_desk().reject(proposal_id, actor))

    @_changes
    def size(self, proposal_id: int, spec: str, actor: str, confirm: bool = False) -> ActionResult:
        """spec: "0.25" (quantity), "5%" (of equity), "0.5x" (of the suggested size); garbled: BAD_SIZE."""
        return self._action(self.trading_desk().size(proposal_id, spec, actor, confirm))

    @_changes
    def resume(self, actor: str, confirm: bool = False) -> ActionResult:
        """Resume with the guard-halt check: after a halt by a guard, needs_confirmation until confirm=True."""
        return self._action(self.trading_desk().resume(actor, confirm))

    def positions(self) -> list[PositionView]:
        return self.trading_desk().positions()

    def position_lines(self) -> list[PositionLine]:
        """Open positions with the stop and target of the bracket legs still working on them."""
        held = self.positions()
        with self._sessions() as session:
            return position_lines(session, held)

    def pnl(self) -> PnlView:
        return self.trading_desk().pnl()

    def orders(self, limit: int = 50) -> list[OrderView]:
        return self.trading_desk().orders(limit)

    def reduce(self, actor: str) -> StateChange:
        """REDUCING: only orders that shrink an open position pass the guards; no new risk."""
        return self._set_state(TradingState.REDUCING, actor, "trading.reduce")

    # --- exits and the everyday reports (trading/exits.py, trading/trade_reports.py) ---

    @_changes
    def close(self, symbol: str, actor: str, confirm: bool = False) -> CloseResult:
        """Close the whole `symbol` position at market after cancelling its bracket: CONFIRM_CLOSE (needs_confirmation)
        until confirm=True; ALREADY_CLOSING / ALREADY_CLOSED are ok and send nothing; NO_POSITION, GUARD_* refuse."""
        r = self.trading_desk().exits.close(symbol, actor, "close", confirm)
        return CloseResult(r.ok, r.code, r.message, None, r.needs_confirmation, close=r.close)

    @_changes
    def flatten(self, actor: str, confirm: bool = False) -> FlattenResult:
        """Close every open position (CONFIRM_FLATTEN first); open entries are cancelled too."""
        r, closes = self.trading_desk().exits.flatten(actor, confirm)
        return FlattenResult(r.ok, r.code, r.message, None, r.needs_confirmation, closes=closes)

    @_changes
    def keep(self, symbol: str, actor: str, keep: bool = True) -> KeepResult:
        """Keep `symbol` open past its signal's horizon (keep=False: close it there again)."""
        r, held = self.trading_desk().exits.keep(symbol, actor, keep)
        return KeepResult(r.ok, r.code, r.message, None, r.needs_confirmation, position=held)

    def held(self) -> list[HeldView]:
        """Our open positions with their signal's horizon and whether they are kept past it."""
        return self.trading_desk().exits.held()

    def trades(self, limit: int = 10) -> "list[TradeView]":
        from trading.trade_reports import recent_trades

        return recent_trades(self.trading_desk().trade_book(), limit)

    def profit(self) -> "ProfitView":
        from trading.trade_reports import profit

        desk = self.trading_desk()
        return profit(desk.trade_book(), desk.broker.name)

    def performance(self) -> "list[PerformanceRow]":
        from trading.trade_reports import performance

        return performance(self.trading_desk().trade_book())

    def daily(self, days: int = 7) -> "DailyView":
        from trading.trade_reports import daily

        desk = self.trading_desk()
        book = desk.trade_book()
        with self._sessions() as session:
            return daily(session, book, desk.broker.name, desk.broker.market_time(), days)

    @_changes
    def trading_tick(self) -> "TickReport":
        """The periodic work for `serve` (every minute or so): expire, sync orders, watch the account,
        auto-approve if configured, reconcile every TB_RECONCILE_MINUTES."""
        return self.trading_desk().tick()

    @_changes
    def reconcile(self) -> ReconcileView:
        return self.trading_desk().reconcile()

    # --- chat operations (subscriptions, digest now, recent signals, help) ---
    # The work is in service/chat_ops.py.

    @_changes
    def subscribe(self, chat_id: int, actor: str, digest_time: str | None = None, timezone: str | None = None,
                  immediate_alerts: bool = True, silent: bool = False) -> chat_ops.SubscriptionView:
        """Daily digest for `chat_id` at `digest_time` in `timezone` (defaults from settings), without a sound
        when `silent`; raises chat_ops.SubscriptionError with a plain reason on a bad time or zone."""
        return chat_ops.subscribe(self._sessions, chat_id, actor, self._clock(),
                                  digest_time or self._config.digest_time,
                                  timezone or self._config.digest_timezone, immediate_alerts, silent)

    @_changes
    def unsubscribe(self, chat_id: int, actor: str) -> bool:
        return chat_ops.unsubscribe(self._sessions, chat_id, actor, self._clock())

    def subscription(self, chat_id: int) -> chat_ops.SubscriptionView | None:
        return self._reads.get(("subscription", chat_id), lambda: chat_ops.subscription(self._sessions, chat_id))

    def subscriptions(self) -> list[chat_ops.SubscriptionView]:
        return chat_ops.active_subscriptions(self._sessions)

    def digests_due(self) -> list[tuple[chat_ops.SubscriptionView, str]]:
        return chat_ops.digests_due(self._sessions, self._clock())

    def mark_digest_sent(self, chat_id: int, local_date: str) -> None:
        chat_ops.mark_digest_sent(self._sessions, chat_id, local_date)

    def digest_now(self) -> chat_ops.DigestSnapshot | None:
        return self._reads.get("digest", lambda: chat_ops.latest_digest(
            self._sessions, self._config.take_profit_ratio, self._config.starting_equity))

    def cycle_digest(self, report: "CycleReport") -> chat_ops.DigestSnapshot:
        """The digest of a cycle just run, from what it stored (as every channel reads it), with how its as-of
        was chosen and why it proposed or did not, which only the run itself knows."""
        snapshot = chat_ops.run_digest(self._sessions, report.run_id, self._config.take_profit_ratio,
                                       self._config.starting_equity, report.digest.as_of_basis, report.proposal)
        return snapshot if snapshot is not None else chat_ops.DigestSnapshot(report.run_id, report.digest, None,
                                                                              report.proposal, report.proposal.since_last)

    def recent_signals(self, limit: int = 10) -> list[chat_ops.SignalView]:
        return list(self._reads.get(("signals", limit), lambda: tuple(chat_ops.recent_signals(self._sessions, limit))))

    def strong_signals(self, run_id: int) -> list[chat_ops.SignalView]:
        """The run's BUY/SELL signals convinced enough (TB_ALERT_CONVICTION) for an immediate alert."""
        threshold = self._config.alert_conviction
        return [s for s in chat_ops.run_signals(self._sessions, run_id) if s.actionable and s.conviction >= threshold]

    def log_command(self, record: chat_ops.CommandRecord) -> None:
        chat_ops.log_command(self._sessions, self._clock(), record)

    def evaluation_summary(self) -> "WeeklySummary":
        """The evaluation summary for /eval and the weekly post (service/evaluations.py: made at most once per
        TB_CHAT_EVAL_FRESH_MINUTES, slow and blocking when it is made)."""
        return self._evaluations.summary()

    # --- the watchlist, the prediction markets and the chart (service/watchlist.py, pipeline/markets.py,
    # service/charts.py) ---

    def _watchlist_service(self) -> "WatchlistService":
        if self._watchlist is None:
            raise RuntimeError("this operator service was built without a watchlist (service/composition.py builds one)")
        return self._watchlist()

    def watchlist(self) -> "WatchlistView":
        """The assets the next cycle reads: TB_UNIVERSE as changed by /watch and /unwatch."""
        return self._watchlist_service().current()

    @_changes
    def watch(self, symbol: str, actor: str) -> "WatchResult":
        """Add `symbol` from the next cycle on (the caller checked that `actor` is an operator); UNKNOWN_SYMBOL
        names the nearest known ones, ALREADY_WATCHED changes nothing."""
        return self._watchlist_service().watch(symbol, actor)

    @_changes
    def unwatch(self, symbol: str, actor: str) -> "WatchResult":
        return self._watchlist_service().unwatch(symbol, actor)

    def markets(self) -> Markets:
        """The latest finished cycle's prediction-markets section, as stored (pipeline/markets.stored_section)."""
        return self._reads.get("markets", lambda: Markets(self._config.polymarket, *chat_ops.latest_markets(self._sessions)))

    def chart(self, symbol: str, days: float) -> ChartImage | ChartRefused:
        """One asset's picture and caption, or why not in one line. Blocks (store, bars, drawing): chat runs it
        in a worker thread."""
        from service.charts import ChartError, UnknownSymbol

        if self._charts is None:
            raise RuntimeError("this operator service was built without charts (service/composition.py builds them)")
        try:
            drawn = self._charts(symbol, self._clock(), days)
        except UnknownSymbol as exc:
            return ChartRefused(str(exc), unknown_symbol=True)
        except ChartError as exc:
            return ChartRefused(str(exc))
        return ChartImage(drawn.symbol, drawn.png, drawn.caption)

    # --- data providers (circuit breakers of the live feeds and Alpaca data; pipeline/provider_store.py) ---

    def data_providers(self) -> "list[BreakerSnapshot]":
        """Each live provider's breaker as last stored: closed, open (skipped until retry_at) or half-open
        (the next cycle tries it once). Empty on the embedded snapshot, which has no providers to fail."""
        from datetime import timedelta

        from pipeline.provider_store import provider_health

        cooldown = timedelta(seconds=self._config.breaker_cooldown_seconds)
        return provider_health(self._sessions, cooldown, self._clock())
