"""What a trader reads before deciding, on the embedded defaults: the proposal card true to the run's
artifact, a digest that fits one phone screen, and buttons that fit Telegram whatever the arguments."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.actions import proposal_buttons
from bot.message_model import plain
from bot.messages import card_lines, digest_doc
from config import load_settings
from intelligence.types import Direction
from pipeline.cycle import run_once
from providers.bars import EmbeddedMarketData
from providers.sentiment_models import load_backend
from service.composition import build_app
from service.proposal_card import Exposure, ProposalCard, TrackRecord
from storage.db import open_store
from tests.conftest import utc
from tests.snapshot_fixtures import feeds_until
from trading.views import ProposalView

NOW = utc(2026, 11, 21, 9, 0)


@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory: pytest.TempPathFactory):
    """One cycle on the embedded snapshot, as `run --once` makes it; the app over its store. The snapshot is cut
    where the engine makes a call that sizes to a proposal (tests/snapshot_fixtures.py): on the whole of it
    every asset is a hold."""
    root = tmp_path_factory.mktemp("run")
    settings = load_settings(database_url=f"sqlite:///{root / 'tb.db'}", artifacts_dir=root / "artifacts",
                             feeds_dir=feeds_until(root / "feeds"))
    sessions = open_store(settings.database_url)
    report = run_once(settings, sessions, load_backend("embedded", "unused").backend, (), EmbeddedMarketData(), NOW)
    app = build_app(settings, sessions=sessions, clock=lambda: NOW)
    artifact = json.loads((root / "artifacts" / f"run-{report.run_id}.json").read_text())
    return settings, app, report, artifact


def _signal(artifact: dict, symbol: str) -> dict:
    return next(s for s in artifact["signals"] if s["symbol"] == symbol)


def test_the_proposal_card_is_true_to_the_run_artifact(embedded_run) -> None:
    settings, app, report, artifact = embedded_run
    [card] = app.service.proposal_cards()
    p = card.proposal
    assert report.proposal_id == p.id
    features = _signal(artifact, p.symbol)["features"]
    assert p.reference_price == features["price"]["last_close"]
    assert card.quote_time is not None and card.quote_time.isoformat() == features["price"]["last_bar_end"]
    assert card.stop_distance == pytest.approx(features["sizing"]["stop_distance"])
    sign = 1 if p.side == "buy" else -1
    assert card.stop_price == pytest.approx(p.reference_price * (1 - sign * card.stop_distance))
    assert card.target_price == pytest.approx(p.reference_price * (1 + sign * card.stop_distance * settings.take_profit_ratio))
    assert card.risk == pytest.approx(p.quantity * p.reference_price * card.stop_distance)
    assert card.equity == settings.sim_equity and card.risk_share == pytest.approx(card.risk / settings.sim_equity)
    assert card.horizon.total_seconds() == settings.horizon_hours * 3600
    assert card.track.count == 0  # nothing has resolved in a fresh store
    titles = {h["title"] for h in features["narrative"]["headlines"]}
    assert card.headlines and all(h.title in titles for h in card.headlines)
    assert card.exposure == Exposure(0.0, None, 0)

    text = "\n".join(plain_line for plain_line in _plain(card))
    for fact in (f"#{p.id} {p.side.upper()}", f"{card.stop_price:,.6g}", f"{card.target_price:,.6g}",
                 f"about {card.risk:,.0f} USD", f"{card.risk_share:.2%} of equity", "over 24 h", "no track record yet",
                 f"“{card.headlines[0].title}”", f"Nothing else open in {p.symbol}", "Waiting for an operator until"):
        assert fact in text, (fact, text)


def _plain(card: ProposalCard) -> list[str]:
    return ["".join(span.text for span in ln) for ln in card_lines(card)]


def test_the_default_digest_fits_one_phone_screen_with_the_call_first(embedded_run) -> None:
    _, app, report, _ = embedded_run
    text = plain(digest_doc(app.service.cycle_digest(report)))
    assert len(text) < 1200, len(text)
    lines = text.splitlines()
    first_call = next(i for i, ln in enumerate(lines) if " BUY · " in ln or " SELL · " in ln)
    holds = next(i for i, ln in enumerate(lines) if " more on hold: " in ln)
    assert first_call < holds < lines.index("Proposal")
    assert "“" in lines[first_call + 3]  # the story the call rests on, quoted
    held = lines[holds].split(": ", 1)[1].replace(";", ",").replace(" — ", ",").split(",")
    on_hold = {item.symbol for item in report.digest.items if item.direction is Direction.HOLD}
    assert on_hold == {word.strip() for word in held} & {item.symbol for item in report.digest.items}
    assert lines[holds].startswith(f"{len(on_hold)} more on hold")
    assert f"#{report.proposal_id} " in text and "at risk" in text


def _card(pid: int, quantity: float, suggested: float, symbol: str) -> ProposalCard:
    view = ProposalView(pid, symbol, "buy", quantity, quantity * 10, 0.55, "proposed", NOW, NOW, 10.0, NOW)
    return ProposalCard(view, symbol, None, suggested, None, None, None, None, None, None, timedelta(hours=24), NOW,
                        TrackRecord("x", 0, 0), (), Exposure(0, None, 0))


@given(pid=st.integers(1, 10**18 - 1),
       quantity=st.floats(1e-12, 1e15, allow_nan=False, allow_infinity=False),
       suggested=st.floats(1e-12, 1e15, allow_nan=False, allow_infinity=False),
       symbol=st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=1, max_size=16))
def test_button_data_fits_telegrams_64_bytes_whatever_the_arguments(pid: int, quantity: float, suggested: float,
                                                                   symbol: str) -> None:
    for row in proposal_buttons(_card(pid, quantity, suggested, symbol)):
        for button in row:
            assert len(button.data.encode()) <= 64, button.data
            assert math.isfinite(float(button.data.split(":")[2])) if button.data.startswith("size:") else True


def test_the_card_says_what_is_already_open_in_the_asset() -> None:
    card = _card(3, 1.0, 1.0, "ETH")
    held = replace(card, exposure=Exposure(0.5, 3100.0, 1))
    text = "\n".join(_plain(held))
    assert "Already open in ETH: long 0.5 at 3,100; 1 other order(s) in flight." in text
