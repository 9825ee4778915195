"""The trade conversation's new commands through the real Telegram Application against the fake Bot API:
/close (confirm first, by button), /flatten, /keep, /pause on open brackets, /trades, /profit,
/performance, /daily agreeing with /pnl, and /signals folding a repeated signal into one row."""
from __future__ import annotations

import re

from intelligence.types import Direction
from tests.chat_fixtures import MARKET_TIME, OPERATOR, SUBSCRIBER, chat_stack, run, seed_proposal, seed_run, shifted_clock


def _file(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'chat.db'}"


async def _ask(stack, user: int, text: str):
    before = len(stack.telegram.to(user))
    stack.telegram.command(user, text)
    await stack.telegram.wait_for(lambda: len(stack.telegram.to(user)) > before)
    return stack.telegram.to(user)[before]


async def _answer(stack, user: int, starts: str, after: int):
    """The first message to `user` from index `after` on whose text starts with `starts` (fill alerts interleave)."""
    def found():
        return next((m for m in stack.telegram.to(user)[after:] if m.text.startswith(starts)), None)
    await stack.telegram.wait_for(lambda: found() is not None)
    return found()


async def _fills(stack, user: int, after: int, count: int) -> None:
    """Fill notices come after the answer of the command that raised them (bot/telegram_app.py)."""
    await stack.telegram.wait_for(lambda: sum(m.text.startswith("Order filled") for m in stack.telegram.to(user)[after:]) >= count)


async def _bought(stack, symbol: str = "SOL", price: float = 133.0, quantity: float = 10.0) -> int:
    _, signals = seed_run(stack.sessions, MARKET_TIME, [(symbol, Direction.BUY, 0.56, 0.8)])
    pid = seed_proposal(stack.sessions, signals[0], MARKET_TIME, symbol=symbol, quantity=quantity, price=price)
    before = len(stack.telegram.to(OPERATOR))
    stack.telegram.command(OPERATOR, f"/approve {pid}")
    done = await _answer(stack, OPERATOR, "Done", before)
    assert "approved" in done.text
    await _fills(stack, OPERATOR, before, 1)
    return pid


def _money(text: str, label: str) -> str:
    found = re.search(label + r" ([+-][\d,]+\.\d\d)", text)
    assert found, (label, text)
    return found.group(1)


def test_an_operator_closes_by_button_and_every_report_agrees_with_pnl(tmp_path) -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME), database_url=_file(tmp_path)) as stack:
            await _bought(stack)
            assert "not allowed" in (await _ask(stack, SUBSCRIBER, "/close SOL")).text
            ask = await _ask(stack, OPERATOR, "/close sol")
            assert ask.text.startswith("Please confirm") and "LONG 10 SOL" in ask.text
            assert "take-profit at" in ask.text and "stop-loss at" in ask.text
            confirm = ask.keyboard[0][0]["callback_data"]
            assert confirm.startswith("c:") and ask.keyboard[0][1]["text"] == "Cancel"  # a bound, single-use Confirm
            before = len(stack.telegram.to(OPERATOR))
            stack.telegram.press(OPERATOR, ask, confirm)
            done = await _answer(stack, OPERATOR, "Done", before)
            assert "Closed LONG 10 SOL at" in done.text and "realised" in done.text
            await _fills(stack, OPERATOR, before, 1)
            stack.telegram.press(OPERATOR, ask, confirm)  # the same Confirm again: spent, nothing is sent
            await stack.telegram.wait_for(lambda: "already used" in stack.telegram.to(OPERATOR)[-1].text)
            again = await _ask(stack, OPERATOR, "/close SOL")
            assert "already closed" in again.text and "Nothing was sent" in again.text

            pnl = (await _ask(stack, OPERATOR, "/pnl")).text
            profit = (await _ask(stack, OPERATOR, "/profit")).text
            trades = (await _ask(stack, OPERATOR, "/trades")).text
            performance = (await _ask(stack, OPERATOR, "/performance")).text
            daily = (await _ask(stack, OPERATOR, "/daily 2")).text
            realised = _money(pnl, "Realised")
            assert _money(profit, "Realised P&L") == realised and "Closed trades: 1 of 1" in profit
            assert "1. SOL long 10" in trades and "closed by an operator" in trades
            assert _money(trades, "Realised P&L of these:") == realised
            assert f"1. SOL {realised}" in performance
            assert daily.startswith("Daily P&L to 2025-12-13") and f"2025-12-13  {realised}" in daily
            assert _money(daily, "Realised over these 2 days:") == realised

            assert "Not done (NO_POSITION)" in (await _ask(stack, OPERATOR, "/keep SOL")).text
            assert "no open position to close" in (await _ask(stack, OPERATOR, "/flatten")).text
            assert "Usage: /close SYMBOL" in (await _ask(stack, OPERATOR, "/close")).text
            assert "not an asset symbol" in (await _ask(stack, OPERATOR, "/close S*L")).text

    run(scenario())


def test_pause_says_what_happens_to_brackets_and_flatten_closes_everything_after_a_confirm(tmp_path) -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME), database_url=_file(tmp_path)) as stack:
            await _bought(stack)
            await _bought(stack, "BTC", 90_000.0, 0.01)
            paused = (await _ask(stack, OPERATOR, "/pause")).text
            assert "ACTIVE -> HALTED" in paused and "2 open bracket(s) stay live at the broker" in paused
            assert "horizon exits wait for /resume" in paused
            kept = (await _ask(stack, OPERATOR, "/keep BTC")).text
            assert "stays open past its signal's horizon" in kept
            ask = await _ask(stack, OPERATOR, "/flatten")
            assert ask.text.startswith("Please confirm") and "LONG 0.01 BTC" in ask.text and "LONG 10 SOL" in ask.text
            before = len(stack.telegram.to(OPERATOR))
            stack.telegram.press(OPERATOR, ask, ask.keyboard[0][0]["callback_data"])
            done = await _answer(stack, OPERATOR, "Done", before)  # while HALTED: the exit rule lets it through
            assert "Closed 2 position(s)" in done.text and "BTC long 0.01: filled" in done.text
            await _fills(stack, OPERATOR, before, 2)
            assert "No open positions" in (await _ask(stack, OPERATOR, "/positions")).text
            trades = (await _ask(stack, OPERATOR, "/trades")).text
            assert trades.count("flattened") == 2

    run(scenario())


def test_signals_show_a_repeated_signal_once_with_how_often_it_was_seen() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            for _ in range(3):  # three cycles on the same data
                seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8), ("BTC", Direction.HOLD, None, 0.1)])
            stack.runtime.service.forget_reads()
            text = (await _ask(stack, SUBSCRIBER, "/signals")).text
        assert text.count("SOL BUY") == 1 and "seen 3 times since 2025-12-13 11:00 UTC" in text

    run(scenario())
