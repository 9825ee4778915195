"""/watch, /unwatch and /universe through the real python-telegram-bot Application and the fake Bot API,
and the same rows in the shell: an operator's /watch changes /universe and what the next cycle reads;
anyone else's changes nothing and is refused like every operator command."""
from __future__ import annotations

import json

from sqlalchemy import func, select

import tracer_bullet
from pipeline.universe import current_universe, watchlist
from storage.chat_models import ChatCommandLog
from storage.trading_models import AuditRow
from storage.universe_models import WatchlistRow
from tests.chat_fixtures import GROUP, OPERATOR, STRANGER, SUBSCRIBER, chat_stack, run

START = ["BTC", "ETH", "SOL"]


async def _ask(stack, user: int, text: str, chat_id: int | None = None, chat_type: str = "private"):
    chat = chat_id if chat_id is not None else user
    before = len(stack.telegram.to(chat))
    stack.telegram.command(user, text, chat_id, chat_type)
    await stack.telegram.wait_for(lambda: len(stack.telegram.to(chat)) > before)
    return stack.telegram.to(chat)[before].text


def _changes(sessions) -> tuple[int, int]:
    with sessions() as session:
        return (session.scalar(select(func.count()).select_from(WatchlistRow)),
                session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.kind.like("watchlist.%"))))


def test_an_operators_watch_changes_universe_and_the_next_cycle_and_nobody_elses_does() -> None:
    async def scenario() -> None:
        async with chat_stack(universe=START) as stack:
            settings, sessions = stack.settings, stack.sessions
            # A group an operator subscribed: its members read there (readers), they do not act.
            stack.runtime.service.subscribe(GROUP, f"telegram:{OPERATOR}", "08:00", "UTC")
            before = await _ask(stack, STRANGER, "/universe", GROUP, "group")
            assert before.startswith("Watchlist: 3 assets") and "NVDA" not in before
            for user, chat, kind in ((SUBSCRIBER, None, "private"), (STRANGER, GROUP, "group")):
                assert await _ask(stack, user, "/watch NVDA", chat, kind) == "Sorry, you are not allowed to do that."
            assert await _ask(stack, STRANGER, "/unwatch BTC", GROUP, "group") == "Sorry, you are not allowed to do that."
            assert _changes(sessions) == (0, 0) and watchlist(settings, sessions) == START

            done = await _ask(stack, OPERATOR, "/watch nvda")
            assert done.startswith("Done") and "NVDA (Nvidia) is on the watchlist from the next cycle on." in done
            assert "Watchlist now: BTC, ETH, SOL, NVDA." in done
            after = await _ask(stack, STRANGER, "/universe", GROUP, "group")
            assert after.startswith("Watchlist: 4 assets") and "US stocks\nNVDA Nvidia (watched by telegram:1001)" in after
            assert [a.symbol for a in current_universe(settings, sessions).assets] == START + ["NVDA"]

            again = await _ask(stack, OPERATOR, "/watch NVDA")
            assert again.startswith("Nothing to change") and "already on the watchlist" in again
            off = await _ask(stack, OPERATOR, "/unwatch SOL")
            assert off.startswith("Done") and "Watchlist now: BTC, ETH, NVDA." in off
            assert watchlist(settings, sessions) == ["BTC", "ETH", "NVDA"]
            assert _changes(sessions) == (2, 2)  # NVDA watched, SOL unwatched: one row and one audit entry each
            with sessions() as session:
                log = [(r.command, r.role, r.allowed, r.outcome) for r in session.scalars(
                    select(ChatCommandLog).where(ChatCommandLog.command.in_(("watch", "unwatch"))).order_by(ChatCommandLog.id))]
            assert log == [("watch", "subscriber", False, "REFUSED"), ("watch", "reader", False, "REFUSED"),
                           ("unwatch", "reader", False, "REFUSED"), ("watch", "operator", True, "OK"),
                           ("watch", "operator", True, "OK"), ("unwatch", "operator", True, "OK")]

    run(scenario())


def test_typos_and_garbled_symbols_get_one_clear_answer_and_change_nothing() -> None:
    async def scenario() -> None:
        async with chat_stack(universe=START) as stack:
            typo = await _ask(stack, OPERATOR, "/watch NVDX")
            assert typo.startswith("Not done (UNKNOWN_SYMBOL)") and "Nearest known: NVDA" in typo
            assert "Did you mean BTC" in await _ask(stack, OPERATOR, "/unwatch BTX")
            assert "Usage: /watch SYMBOL, e.g. /watch NVDA" in await _ask(stack, OPERATOR, "/watch")
            garbled = await _ask(stack, OPERATOR, "/watch NV!DA")
            assert "'NV!DA' is not an asset symbol" in garbled and "Usage: /watch SYMBOL" in garbled
            assert "Usage: /unwatch SYMBOL" in await _ask(stack, OPERATOR, "/unwatch BTC ETH")
            await _ask(stack, OPERATOR, "/unwatch BTC")
            await _ask(stack, OPERATOR, "/unwatch ETH")
            last = await _ask(stack, OPERATOR, "/unwatch SOL")
            assert last.startswith("Not done (LAST_SYMBOL)")
            assert watchlist(stack.settings, stack.sessions) == ["SOL"]

    run(scenario())


def test_the_shell_watches_unwatches_and_lists_the_same_way(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("TB_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TB_UNIVERSE", "BTC,ETH")
    assert tracer_bullet.main(["watch", "NVDA", "--json"]) == 0
    watched = json.loads(capsys.readouterr().out)
    assert watched["changed"] is True and watched["watchlist"] == ["BTC", "ETH", "NVDA"]
    assert tracer_bullet.main(["watch", "NVDX"]) == 1
    assert "Nearest known: NVDA" in capsys.readouterr().out
    assert tracer_bullet.main(["universe", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(a["symbol"], a["asset_class"], a["origin"]) for a in listed] == [
        ("BTC", "crypto", "TB_UNIVERSE"), ("ETH", "crypto", "TB_UNIVERSE"), ("NVDA", "us_equity", "watched by shell")]
    assert tracer_bullet.main(["unwatch", "ETH"]) == 0
    assert "Watchlist now: BTC, NVDA." in capsys.readouterr().out
    try:
        tracer_bullet.main(["watch", "N!"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "'N!' is not an asset symbol" in capsys.readouterr().err
