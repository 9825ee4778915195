"""An operator's day through the real Telegram Application and the fake Bot API, on the embedded data
(issue 12's "Done means"): a cycle makes a proposal; its card carries every fact a trader decides on,
true to the run's artifact; the stale-Confirm sequence changes nothing; approve; the position shows its
stop and target; the next cycle on the same data offers nothing new; /close; /profit and /trades agree
with /pnl. The horizon exit on the simulated broker is tests/test_trading_exits.py's."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from pipeline.cycle import run_once
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from tests.chat_fixtures import OPERATOR, chat_stack, run, shifted_clock
from tests.snapshot_fixtures import CALL_AS_OF, feeds_until
from trading.proposal_builder import OutcomeCode

MORNING = CALL_AS_OF + timedelta(minutes=20)  # the operator's day starts just after the newest headline


def _buttons(message) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message.keyboard for b in row}


def _money(text: str, label: str) -> str:
    found = re.search(label + r" ([+-][\d,]+\.\d\d)", text)
    assert found, (label, text)
    return found.group(1)


def test_an_operators_day_from_proposal_to_closed_trade(tmp_path) -> None:
    backend = load_backend("embedded", "unused").backend
    market = EmbeddedMarketData()

    async def scenario() -> None:
        async with chat_stack(shifted_clock(MORNING), database_url=f"sqlite:///{tmp_path / 'day.db'}",
                              feeds_dir=feeds_until(tmp_path / "feeds"), artifacts_dir=tmp_path / "artifacts",
                              discord=False) as stack:
            telegram = stack.telegram

            def answers(before: int) -> list:
                return [m for m in telegram.to(OPERATOR)[before:] if not m.text.startswith("Order filled")]

            async def ask(text: str):
                before = len(telegram.to(OPERATOR))
                telegram.command(OPERATOR, text)
                await telegram.wait_for(lambda: bool(answers(before)))  # fill notices may come in between
                return answers(before)[0]

            async def press(message, label: str, starts: str = ""):
                before = len(telegram.to(OPERATOR))
                telegram.press(OPERATOR, message, _buttons(message)[label])
                await telegram.wait_for(lambda: any(m.text.startswith(starts) for m in telegram.to(OPERATOR)[before:]))
                return next(m for m in telegram.to(OPERATOR)[before:] if m.text.startswith(starts))

            # 1. The cycle, as `run --once` makes it; the proposal goes to the operator as serve sends it.
            first = run_once(stack.settings, stack.sessions, backend, (), market, MORNING)
            assert first.proposal.code is OutcomeCode.PROPOSED and first.proposal_id is not None
            artifact = json.loads((tmp_path / "artifacts" / f"run-{first.run_id}.json").read_text())
            [card] = stack.runtime.service.proposal_cards()
            stack.runtime.publisher.proposal(card)
            await telegram.wait_for(lambda: bool(telegram.to(OPERATOR)))
            message = telegram.to(OPERATOR)[0]

            # 2. Every fact the card promises, true to the artifact.
            p = card.proposal
            features = next(s for s in artifact["signals"] if s["symbol"] == p.symbol)["features"]
            assert p.reference_price == features["price"]["last_close"]
            assert card.stop_distance == features["sizing"]["stop_distance"]
            assert card.stop_price is not None and card.target_price is not None and card.risk is not None
            lead = card.headlines[0]
            assert lead.title in {h["title"] for h in features["narrative"]["headlines"]}
            for fact in (f"#{p.id} {p.side.upper()} {p.quantity:.6g} {p.symbol}", f"about {p.notional:,.0f} USD",
                         f"Entry near {p.reference_price:,.6g}", f"Stop {card.stop_price:,.6g}",
                         f"target {card.target_price:,.6g}", f"At risk at the stop: about {card.risk:,.0f} USD",
                         "of equity", "over 24 h", "no track record yet", lead.title, lead.source,
                         "after 24 h", f"Nothing else open in {p.symbol}", "Waiting for an operator until"):
                assert fact in message.text, (fact, message.text)

            # 3. The attack's stale-Confirm sequence: 2x, Cancel, the old Confirm. Nothing changes.
            double = next(label for label in _buttons(message) if label.startswith("2×"))
            confirm = await press(message, double, "Please confirm")
            [confirm_label] = [label for label in _buttons(confirm) if label.startswith("Confirm")]
            assert (await press(confirm, "Cancel", "Cancelled")).text.startswith("Cancelled: nothing was changed")
            assert "already cancelled" in (await press(confirm, confirm_label, "")).text
            assert stack.runtime.service.proposals()[0].quantity == p.quantity

            # 4. Approve from the card: the answer first, then the fill.
            approve = next(label for label in _buttons(message) if label.startswith("Approve"))
            done = await press(message, approve, "Done")
            assert "approved" in done.text
            await telegram.wait_for(lambda: any(m.text.startswith("Order filled") for m in telegram.to(OPERATOR)))

            # 5. The position with its stop and target.
            positions = (await ask("/positions")).text
            side = "SHORT" if p.side == "sell" else "LONG"
            assert f"{p.symbol}" in positions and side in positions.upper()
            assert f"{card.stop_price:,.6g}" in positions and f"{card.target_price:,.6g}" in positions, positions

            # 6. The next cycle on the same data: nothing offered for the trade already held.
            again = run_once(stack.settings, stack.sessions, backend, (), market, MORNING + timedelta(minutes=20))
            assert again.proposal_id is None and again.proposal.code is OutcomeCode.HOLDING
            assert [s.symbol for s in again.proposal.skipped] == [p.symbol]

            # 7. Close it: confirm first, by button.
            closing = await ask(f"/close {p.symbol.lower()}")
            assert closing.text.startswith("Please confirm")
            closed = await press(closing, next(label for label in _buttons(closing) if label.startswith("Confirm")),
                                 "Done")
            assert f"Closed {side} {p.quantity:.6g} {p.symbol}" in closed.text, closed.text
            await telegram.wait_for(lambda: sum(m.text.startswith("Order filled") for m in telegram.to(OPERATOR)) >= 2)
            assert "No open positions" in (await ask("/positions")).text

            # 8. One realised P&L everywhere.
            pnl = (await ask("/pnl")).text
            profit = (await ask("/profit")).text
            trades = (await ask("/trades")).text
            realised = _money(pnl, "Realised")
            assert _money(profit, "Realised P&L") == realised and "Closed trades: 1 of 1" in profit
            assert _money(trades, "Realised P&L of these:") == realised and "closed by an operator" in trades

            # 9. And still nothing new to offer: the same signal was traded.
            after = run_once(stack.settings, stack.sessions, backend, (), market, MORNING + timedelta(minutes=40))
            assert after.proposal_id is None and after.proposal.code is OutcomeCode.ALREADY_PROPOSED

    run(scenario())
