"""The real python-telegram-bot Application against the fake Bot API: commands and buttons from an
operator, a subscriber and a stranger, in private and group chats; replies and stored state."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select

from service.commands import Role, for_channel
from intelligence.types import Direction
from storage.chat_models import ChatCommandLog, ChatSubscription
from trading.state import TradingState, read_state
from tests.chat_fixtures import (GROUP, MARKET_TIME, OPERATOR, STRANGER, SUBSCRIBER, chat_stack, run, seed_proposal,
                                 seed_run, shifted_clock)


def _file(tmp_path) -> str:
    """A file store, for tests whose commands run in a worker thread (the broker's, like approve): an
    in-memory SQLite store is per thread."""
    return f"sqlite:///{tmp_path / 'chat.db'}"


def _log(sessions) -> list[ChatCommandLog]:
    with sessions() as session:
        return list(session.scalars(select(ChatCommandLog).order_by(ChatCommandLog.id)))


def _state(sessions) -> TradingState:
    with sessions() as session:
        return read_state(session).state


async def _ask(stack, user: int, text: str, chat_id: int | None = None, chat_type: str = "private"):
    """Send one command and return the reply (the next message the bot sends to that chat)."""
    chat = chat_id if chat_id is not None else user
    before = len(stack.telegram.to(chat))
    stack.telegram.command(user, text, chat_id, chat_type)
    await stack.telegram.wait_for(lambda: len(stack.telegram.to(chat)) > before)
    return stack.telegram.to(chat)[before]


def test_help_lists_only_what_the_caller_may_use() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            operator = (await _ask(stack, OPERATOR, "/help")).text
            subscriber = (await _ask(stack, SUBSCRIBER, "/help")).text
            stranger = (await _ask(stack, STRANGER, "/help")).text
        for command in ("/approve ID", "/reject ID", "/size ID X", "/pause", "/resume", "/positions", "/pnl", "/subscribe"):
            assert command in operator
        assert "/status" in subscriber and "/subscribe" in subscriber and "/digest" in subscriber
        for command in ("/approve", "/pause", "/resume", "/positions", "/pnl", "/proposals", "/size"):
            assert command not in subscriber
        assert "/" not in stranger.replace("/help", "") and str(STRANGER) in stranger

    run(scenario())


def test_the_command_menu_is_registered_per_audience_from_the_command_table() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            await stack.telegram.wait_for(lambda: f"chat:{OPERATOR}" in stack.telegram.menus)
            return dict(stack.telegram.menus)

    menus = run(scenario())
    names = {scope: [c["command"] for c in commands] for scope, commands in menus.items()}
    assert names["default"] == [c.name for c in for_channel("chat", Role.READER)]
    assert "approve" in names[f"chat:{OPERATOR}"] and "pause" in names[f"chat:{OPERATOR}"]
    assert "subscribe" in names[f"chat:{SUBSCRIBER}"] and "approve" not in names[f"chat:{SUBSCRIBER}"]
    assert "approve" not in names["default"] and "status" in names["default"]
    assert f"chat:{STRANGER}" not in names


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_stranger_is_refused_once_with_no_data_and_every_attempt_is_logged(caplog) -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME)) as stack:
            run_id, signals = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            pid = seed_proposal(stack.sessions, signals[0], MARKET_TIME)
            first = await _ask(stack, STRANGER, "/status")
            assert first.text == "Sorry, you are not allowed to do that."
            for text in ("/digest", f"/approve {pid}", "/pause", "/signals", "/subscribe", "/positions"):
                stack.telegram.command(STRANGER, text)
            await _until(lambda: len(_log(stack.sessions)) == 7)
            await asyncio.sleep(0.3)  # time enough for a reply to go out, were one queued
            assert len(stack.telegram.to(STRANGER)) == 1  # one refusal per stranger per hour; the rest logged
            assert _state(stack.sessions) is TradingState.ACTIVE
            assert stack.runtime.service.proposals()[0].status == "proposed"
            assert stack.runtime.service.subscription(STRANGER) is None
            log = _log(stack.sessions)
        refused = [(r.command, r.allowed, r.role, r.user_id) for r in log]
        assert refused == [(c, False, "stranger", STRANGER) for c in
                           ("status", "digest", "approve", "pause", "signals", "subscribe", "positions")]
        assert "refused /approve from telegram user 3003" in caplog.text

    with caplog.at_level(logging.WARNING, logger="bot.actions"):
        run(scenario())


def test_operator_pauses_and_resumes_and_a_subscriber_can_only_look(tmp_path) -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME), database_url=_file(tmp_path)) as stack:
            assert "ACTIVE -> HALTED" in (await _ask(stack, OPERATOR, "/pause")).text
            assert _state(stack.sessions) is TradingState.HALTED
            assert "not allowed" in (await _ask(stack, SUBSCRIBER, "/resume")).text
            status = (await _ask(stack, SUBSCRIBER, "/status")).text
            assert "Trading state: HALTED (paused)" in status and "Mode: simulated" in status
            assert "resumed" in (await _ask(stack, OPERATOR, "/resume")).text
            assert _state(stack.sessions) is TradingState.ACTIVE
            entries = [(r.command, r.allowed, r.role) for r in _log(stack.sessions)]
        assert entries == [("pause", True, "operator"), ("resume", False, "subscriber"), ("status", True, "subscriber"),
                           ("resume", True, "operator")]

    run(scenario())


def test_subscribe_with_time_zone_and_alerts_persists_and_unsubscribe_stops_both() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            reply = (await _ask(stack, SUBSCRIBER, "/subscribe 07:30 Europe/Berlin noalerts")).text
            assert "daily at 07:30 (Europe/Berlin)" in reply and "alerts for strong signals: off" in reply
            assert "not a time of day" in (await _ask(stack, SUBSCRIBER, "/subscribe 25:00")).text
            assert "not a timezone" in (await _ask(stack, SUBSCRIBER, "/subscribe Mars/Olympus")).text
            with stack.sessions() as session:
                row = session.get_one(ChatSubscription, SUBSCRIBER)
                assert (row.active, row.digest_time, row.timezone, row.immediate_alerts) == (True, "07:30", "Europe/Berlin", False)
            assert "Unsubscribed" in (await _ask(stack, SUBSCRIBER, "/unsubscribe")).text
            assert stack.runtime.service.subscription(SUBSCRIBER) is None
            assert "was not subscribed" in (await _ask(stack, SUBSCRIBER, "/unsubscribe")).text
            with stack.sessions() as session:
                assert session.get_one(ChatSubscription, SUBSCRIBER).active is False

    run(scenario())


def test_digest_and_signals_show_the_latest_run() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            assert "No digest yet" in (await _ask(stack, SUBSCRIBER, "/digest")).text
            seed_run(stack.sessions, MARKET_TIME, [("BTC", Direction.HOLD, None, 0.2), ("SOL", Direction.BUY, 0.56, 0.8),
                                                    ("ETH", Direction.SELL, 0.53, 0.4)], status="degraded",
                     problems=("feed X: malformed",))
            stack.runtime.service.forget_reads()  # as serve does after a cycle (service/read_cache.py)
            digest = await _ask(stack, SUBSCRIBER, "/digest")
            full_text = await _ask(stack, SUBSCRIBER, "/digest full")
            signals = await _ask(stack, SUBSCRIBER, "/signals")
        text = digest.text
        assert text.startswith("Tracer Bullet digest as of 2025-12-13 11:00 UTC")
        assert "DEGRADED: feed X: malformed" in text
        assert text.index("SOL BUY · 56%") < text.index("ETH SELL · 53%") < text.index("1 more on hold: BTC")
        full = full_text.text
        assert full.index("1. SOL BUY") < full.index("2. ETH SELL") < full.index("3. BTC hold")
        assert "<b>&amp;</b>" in full  # evidence text shown literally, not as markup
        assert "SOL BUY" in signals.text and "ETH SELL" in signals.text and "BTC" not in signals.text

    run(scenario())


def test_group_members_read_a_subscribed_group_but_only_operators_act() -> None:
    async def scenario() -> None:
        async with chat_stack() as stack:
            refused = await _ask(stack, STRANGER, "/status", GROUP, "group")
            assert "not allowed" in refused.text
            assert "Subscribed" in (await _ask(stack, OPERATOR, "/subscribe 09:00", GROUP, "group")).text
            status = await _ask(stack, STRANGER, "/status@tracer_test_bot", GROUP, "group")
            assert "Trading state: ACTIVE" in status.text
            assert "not allowed" in (await _ask(stack, STRANGER, "/pause", GROUP, "group")).text
            assert "not allowed" in (await _ask(stack, STRANGER, "/unsubscribe", GROUP, "group")).text
            # The same stranger in a private chat is still a stranger: refused (logged; told once an hour, in
            # the group already).
            logged = len(_log(stack.sessions))
            stack.telegram.command(STRANGER, "/status")
            await _until(lambda: len(_log(stack.sessions)) > logged)
            assert (_log(stack.sessions)[-1].role, _log(stack.sessions)[-1].allowed) == ("stranger", False)
            # A subscriber may subscribe their private chat, not a group: every member would read it.
            refused = await _ask(stack, SUBSCRIBER, "/subscribe 09:00", GROUP - 1, "group")
            assert "Only an operator can subscribe a group" in refused.text
            assert stack.runtime.service.subscription(GROUP - 1) is None
            assert "not allowed" in (await _ask(stack, STRANGER + 1, "/status", GROUP - 1, "group")).text
            # A command addressed to another bot in the group is not ours to answer.
            stack.telegram.command(OPERATOR, "/status@someone_else_bot", GROUP, "group")
            stack.telegram.command(OPERATOR, "/help", GROUP, "group")
            await stack.telegram.wait_for(lambda: stack.telegram.to(GROUP)[-1].text.startswith("Commands you may use"))
            assert _state(stack.sessions) is TradingState.ACTIVE
            # Buttons in the group: the same check as typed commands.
            _, signals = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            pid = seed_proposal(stack.sessions, signals[0], stack.runtime.service._clock())
            stack.runtime.service.forget_reads()  # as serve does after a cycle (service/read_cache.py)
            card = await _ask(stack, OPERATOR, "/proposals", GROUP, "group")
            approve = card.keyboard[0][0]["callback_data"]
            assert approve == f"approve:{pid}:{stack.runtime.service.proposal(pid).version}"
            stack.telegram.press(STRANGER, card, approve, chat_type="group")
            await stack.telegram.wait_for(lambda: stack.telegram.to(GROUP)[-1].text.startswith("Sorry"))
            assert stack.telegram.answers[-1]["text"] == "Sorry, you are not allowed to do that."
            assert stack.runtime.service.proposals()[0].status == "proposed"
            roles = [(r.command, r.role, r.allowed) for r in _log(stack.sessions)]
        assert ("status", Role.READER.value, True) in roles and ("pause", Role.READER.value, False) in roles
        assert roles[-1] == ("approve", Role.READER.value, False)

    run(scenario())


def test_unknown_commands_and_garbled_arguments_get_a_clear_answer(tmp_path) -> None:
    async def scenario() -> None:
        async with chat_stack(database_url=_file(tmp_path)) as stack:
            assert "Unknown command /frobnicate" in (await _ask(stack, OPERATOR, "/frobnicate now")).text
            assert "Usage: /approve ID" in (await _ask(stack, OPERATOR, "/approve soon")).text
            assert "Usage: /size ID X" in (await _ask(stack, OPERATOR, "/size 3")).text
            assert "no proposal #77" in (await _ask(stack, OPERATOR, "/approve 77")).text
            last = stack.telegram.to(OPERATOR)[-1]
            for data in ("drop:table", "approve:", "size:77"):  # forged or stale button data
                stack.telegram.press(OPERATOR, last, data)
            await stack.telegram.wait_for(lambda: len(stack.telegram.to(OPERATOR)) == 7)
            assert [m.text for m in stack.telegram.to(OPERATOR)[4:7]] == [
                "Could not do that\n\nThat button is not valid any more. /proposals shows what is waiting now."] * 3
            outcomes = [r.outcome for r in _log(stack.sessions)]
        assert outcomes == ["UNKNOWN", "BAD_INPUT", "BAD_INPUT", "NOT_FOUND", "BAD_INPUT", "BAD_INPUT", "BAD_INPUT"]

    run(scenario())


def _buttons(message) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message.keyboard or [] for b in row}


def test_proposal_buttons_approve_resize_with_confirmation_and_refuse_strangers(tmp_path) -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME), database_url=_file(tmp_path)) as stack:
            _, signals = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            pid = seed_proposal(stack.sessions, signals[0], MARKET_TIME, quantity=2.0, price=133.0)
            stack.runtime.publisher.proposal(stack.runtime.service.proposal_cards()[0])
            await stack.telegram.wait_for(lambda: bool(stack.telegram.to(OPERATOR)))
            card = stack.telegram.to(OPERATOR)[0]
            buttons = _buttons(card)
            assert list(buttons) == ["Approve 2 SOL", "Reject", "½ suggested: 1", "2× suggested: 4"]
            assert f"Trade proposal #{pid}" in card.text and "Stop 126.35 (-5.0%)" in card.text
            assert all(len(data.encode()) <= 64 for data in buttons.values())

            # A stranger pressing the button: refused, nothing changes.
            stack.telegram.press(STRANGER, card, buttons["Approve 2 SOL"])
            await stack.telegram.wait_for(lambda: bool(stack.telegram.to(card.chat_id)[1:]))
            assert "not allowed" in stack.telegram.to(OPERATOR)[1].text
            assert stack.runtime.service.proposals()[0].status == "proposed"

            # 2x the suggestion is above it: the operator is asked to confirm, the button says exactly what.
            stack.telegram.press(OPERATOR, card, buttons["2× suggested: 4"])
            await stack.telegram.wait_for(lambda: len(stack.telegram.to(OPERATOR)) >= 3)
            ask = stack.telegram.to(OPERATOR)[2]
            asked = _buttons(ask)
            assert ask.text.startswith("Please confirm") and list(asked) == ["Confirm: size to 4 SOL, 532 USD", "Cancel"]
            assert stack.runtime.service.proposals()[0].quantity == 2.0
            stack.telegram.press(OPERATOR, ask, asked["Confirm: size to 4 SOL, 532 USD"])
            await stack.telegram.wait_for(lambda: len(stack.telegram.to(OPERATOR)) >= 4)
            resized = stack.telegram.to(OPERATOR)[3]
            assert "sized to 4" in resized.text and list(_buttons(resized))[0] == "Approve 4 SOL"

            # The card sent before the resize is stale: its Approve does nothing and says why.
            stack.telegram.press(OPERATOR, card, buttons["Approve 2 SOL"])
            await stack.telegram.wait_for(lambda: len(stack.telegram.to(OPERATOR)) >= 5)
            assert "changed since this message" in stack.telegram.to(OPERATOR)[4].text
            assert stack.runtime.service.proposals()[0].status == "proposed"

            stack.telegram.press(OPERATOR, resized, _buttons(resized)["Approve 4 SOL"])
            # The answer comes first, then the fill alert raised while approving.
            await stack.telegram.wait_for(lambda: any(m.text.startswith("Order filled") for m in stack.telegram.to(OPERATOR)))
            texts = [m.text for m in stack.telegram.to(OPERATOR)[5:]]
            done = next(i for i, t in enumerate(texts) if t.startswith("Done") and "approved" in t)
            assert done < next(i for i, t in enumerate(texts) if t.startswith("Order filled")), texts
            await stack.telegram.wait_for(lambda: any(e["message_id"] == resized.message_id for e in stack.telegram.edits))
            assert stack.runtime.service.proposals(include_closed=True)[0].status == "filled"
            # The fill alert is mirrored to Discord with the proposal.
            await stack.discord.wait_for(lambda: len(stack.discord.received) >= 2)
            titles = [m["embeds"][0].get("title") for m in stack.discord.received]
            assert f"Trade proposal \\#{pid}" in titles and "Order filled" in titles
            answers = [a.get("text", "") for a in stack.telegram.answers]
            assert "Sorry, you are not allowed to do that." in answers

    run(scenario())


def test_a_cancelled_or_answered_confirmation_changes_nothing(tmp_path) -> None:
    """The attack's sequence: 2x, Cancel, then the old Confirm. Also: a confirmation answered twice, and one
    answered by someone other than the operator asked."""
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME), database_url=_file(tmp_path),
                              telegram_operators=[OPERATOR, OPERATOR + 1]) as stack:
            _, signals = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            seed_proposal(stack.sessions, signals[0], MARKET_TIME, quantity=2.0, price=133.0)
            stack.runtime.publisher.proposal(stack.runtime.service.proposal_cards()[0])
            await stack.telegram.wait_for(lambda: bool(stack.telegram.to(OPERATOR)))
            card = stack.telegram.to(OPERATOR)[0]

            async def press(message, label: str, user: int = OPERATOR):
                before = len(stack.telegram.to(message.chat_id))  # the answer goes to the message's chat
                stack.telegram.press(user, message, _buttons(message)[label])
                await stack.telegram.wait_for(lambda: len(stack.telegram.to(message.chat_id)) > before)
                return stack.telegram.to(message.chat_id)[-1]

            ask = await press(card, "2× suggested: 4")
            assert (await press(ask, "Cancel")).text.startswith("Cancelled: nothing was changed")
            stale = await press(ask, "Confirm: size to 4 SOL, 532 USD")
            assert "already cancelled" in stale.text
            assert stack.runtime.service.proposals()[0].quantity == 2.0

            again = await press(card, "2× suggested: 4")
            stranger_answer = await press(again, "Confirm: size to 4 SOL, 532 USD", user=OPERATOR + 1)
            assert "Only the operator who asked" in stranger_answer.text
            assert "sized to 4" in (await press(again, "Confirm: size to 4 SOL, 532 USD")).text
            assert "already used" in (await press(again, "Confirm: size to 4 SOL, 532 USD")).text
            assert stack.runtime.service.proposals()[0].quantity == 4.0

    run(scenario())


def test_account_figures_stay_out_of_groups_unless_allowed(tmp_path) -> None:
    async def scenario(allowed: bool) -> list[str]:
        async with chat_stack(database_url=_file(tmp_path / str(allowed)), account_in_groups=allowed) as stack:
            texts = []
            for command in ("/pnl", "/positions", "/orders"):
                texts.append((await _ask(stack, OPERATOR, command, GROUP, "group")).text)
            texts.append((await _ask(stack, OPERATOR, "/orders")).text)  # in private: always
            return texts

    (tmp_path / "False").mkdir()
    (tmp_path / "True").mkdir()
    hidden = run(scenario(False))
    assert all(t.startswith("Ask me in private") for t in hidden[:3]) and hidden[3].startswith("No orders yet")
    shown = run(scenario(True))
    assert shown[0].startswith("Profit and loss") and not any(t.startswith("Ask me in private") for t in shown)


def test_commands_sent_while_down_are_handled_on_start_and_expired_approvals_refused(tmp_path) -> None:
    async def scenario() -> None:
        clock = shifted_clock(MARKET_TIME + timedelta(hours=5))
        async with chat_stack(clock, start=False, database_url=_file(tmp_path)) as stack:
            _, signals = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            pid = seed_proposal(stack.sessions, signals[0], MARKET_TIME, quantity=2.0)  # expires at +4 h
            stack.telegram.command(OPERATOR, f"/approve {pid}")
            stack.telegram.command(OPERATOR, "/pause")
            stack.telegram.command(STRANGER, "/resume")
            await stack.start_bot()
            await stack.telegram.wait_for(lambda: len(stack.telegram.sent) >= 3)
            to_operator = [m.text for m in stack.telegram.to(OPERATOR)]
            assert "Not done (EXPIRED)" in to_operator[0] and "can no longer be approved" in to_operator[0]
            assert "ACTIVE -> HALTED" in to_operator[1]
            assert stack.telegram.to(STRANGER)[0].text == "Sorry, you are not allowed to do that."
            assert _state(stack.sessions) is TradingState.HALTED
            assert stack.runtime.service.proposals(include_closed=True)[0].status == "expired"

    run(scenario())
