"""Garbled command arguments through the real paths (issue 13, finding 5): ids are ASCII digits within
the id range, a size has a floor and a ceiling, and no argument makes a button Telegram refuses.

Before: `/size 1 ١` sized the proposal to 1 (Python's float reads Arabic-Indic digits),
`/size 1 0.0000000000001` sized it to 1e-13 ("about 0 USD"), and four hundred nines were called
"not more than zero".
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

import tracer_bullet
from bot.actions import Actions, Caller
from config import load_settings
from intelligence.types import Direction
from service.commands import Role
from service.composition import build_app
from storage.chat_models import ChatCommandLog
from storage.db import open_store
from tests.chat_fixtures import MARKET_TIME, OPERATOR, chat_stack, run, seed_proposal, seed_run, shifted_clock
from tests.trading_fixtures import add_proposal, db_url, template_db  # noqa: F401  (fixtures)

BAD_IDS = ("١", "²", "1" * 25, str(2**63), str(2**63 - 1), "-1", "0", "#")
NINES = "9" * 400


def _outcomes(sessions) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(r.command, r.outcome) for r in session.scalars(select(ChatCommandLog).order_by(ChatCommandLog.id))]


def test_garbled_ids_and_sizes_through_telegram_change_nothing() -> None:
    async def scenario() -> None:
        async with chat_stack(shifted_clock(MARKET_TIME)) as stack:
            tg = stack.telegram
            _, signals = seed_run(stack.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
            pid = seed_proposal(stack.sessions, signals[0], MARKET_TIME, quantity=2.0, price=133.0)
            asked = [f"/approve {word}" for word in BAD_IDS] + [
                f"/size {pid} ١", f"/size {pid} ²x", f"/size {pid} 0.0000000000001", f"/size {pid} {NINES}",
                f"/size {pid} 0.0001", f"/size {pid} 0.0000001%", f"/size {pid} {NINES}x", "/size ١ 1",
            ]
            for text in asked:
                tg.command(OPERATOR, text)
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == len(asked), timeout=30)
            answers = {text: m.text for text, m in zip(asked, tg.to(OPERATOR))}
            for word in BAD_IDS:
                assert "is not a proposal id" in answers[f"/approve {word}"], answers[f"/approve {word}"]
            assert "'١' is not a size" in answers[f"/size {pid} ١"]
            assert "'²x' is not a size" in answers[f"/size {pid} ²x"]
            assert "too small: a broker takes quantities down to 0.000000001" in answers[f"/size {pid} 0.0000000000001"]
            assert "is too large" in answers[f"/size {pid} {NINES}"] and NINES not in answers[f"/size {pid} {NINES}"]
            assert "too small: the broker's minimum order is 1.00 USD" in answers[f"/size {pid} 0.0001"]
            assert "too small: the broker's minimum order is 1.00 USD" in answers[f"/size {pid} 0.0000001%"]
            assert "is too large" in answers[f"/size {pid} {NINES}x"]
            assert "is not a proposal id" in answers["/size ١ 1"]
            assert not any("went wrong" in text for text in answers.values())
            [proposal] = stack.runtime.service.proposals()
            assert (proposal.status, proposal.quantity) == ("proposed", 2.0)

            # A long multiplier asks to confirm: the button carries a short token, never the argument.
            tg.command(OPERATOR, f"/size {pid} 2.{'0' * 60}x")
            await tg.wait_for(lambda: len(tg.to(OPERATOR)) == len(asked) + 1)
            ask = tg.to(OPERATOR)[-1]
            data = [b["callback_data"] for row in ask.keyboard or [] for b in row]
            assert ask.text.startswith("Please confirm") and len(data) == 2
            assert all(len(d.encode()) <= 64 for d in data)
            outcomes = [outcome for _, outcome in _outcomes(stack.sessions)]
        assert outcomes == ["BAD_INPUT"] * len(BAD_IDS) + ["BAD_SIZE"] * 7 + ["BAD_INPUT", "NEEDS_CONFIRMATION"]

    run(scenario())


@pytest.fixture
def shell(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("TB_DATABASE_URL", db_url)

    def shell_run(*argv: str) -> tuple[int, str]:
        try:
            code = tracer_bullet.main(list(argv))
        except SystemExit as exit_:  # argparse: a usage error
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return shell_run


def test_garbled_ids_and_sizes_in_the_shell(shell, db_url: str) -> None:
    pid = add_proposal(open_store(db_url), created_at=datetime.now(timezone.utc), quantity=0.5)
    for word in BAD_IDS:
        code, out = shell("approve", word)
        assert code == 2 and "is not a proposal id" in out and "Traceback" not in out, out
    for size, words in (("١", "is not a size"), ("0.0000000000001", "too small"), (NINES, "is too large"),
                        ("0.0001", "the broker's minimum order is 1.00 USD")):
        code, out = shell("size", str(pid), size)
        assert code == 1 and words in out and "Traceback" not in out, out
        assert len(out) < 400  # four hundred nines are not printed back whole
    code, out = shell("proposals", "--json")
    assert '"quantity": 0.5' in out


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("sizes")
    settings = load_settings(database_url=f"sqlite:///{root / 'tb.db'}", telegram_operators=[OPERATOR])
    app = build_app(settings, clock=shifted_clock(MARKET_TIME))
    _, signals = seed_run(app.sessions, MARKET_TIME, [("SOL", Direction.BUY, 0.56, 0.8)])
    pid = seed_proposal(app.sessions, signals[0], MARKET_TIME, quantity=2.0, price=133.0)
    yield app, pid
    app.close()


_SIZE_TEXT = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"\A[0-9]{0,30}(\.[0-9]{0,70})?\s?[%xX×]?\Z"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=0, max_value=1e-2).map(lambda f: f"{f:.20f}"),
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_SIZE_TEXT)
@example(text="0.0000000000001")
@example(text=NINES)
@example(text="١")
@example(text="2." + "0" * 60 + "x")
def test_any_size_argument_answers_in_words_and_fits_telegrams_buttons(desk_app, text: str) -> None:
    app, pid = desk_app
    words = text.split()
    reply, record = Actions(app.service).handle(Caller("telegram", OPERATOR, OPERATOR, Role.OPERATOR), "size",
                                                [str(pid), *words])
    assert record.outcome not in ("ERROR",), (text, reply)
    for row in reply.buttons:
        for button in row:
            assert len(button.data.encode()) <= 64, button.data
    proposal = app.service.proposal(pid)
    # The broker's minimum is checked at the price the order would be sent at (the simulator's quote of
    # the moment), not the proposal's reference price of 133.
    quote = app.desk().broker.quote("SOL")
    price = quote.price if quote is not None else 133.0
    assert proposal is not None and 1e-9 <= proposal.quantity and proposal.quantity * price >= 1.0 - 1e-9
