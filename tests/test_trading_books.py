"""The /size argument and average-cost accounting."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.accounting import Book, apply_fill, books_from_fills, fill_delta
from trading.size_spec import SizeSpec, SizeSpecError, parse_size


@pytest.mark.parametrize(("text", "spec"), [
    ("0.25", SizeSpec("quantity", 0.25)), (" 3 ", SizeSpec("quantity", 3.0)), (".5", SizeSpec("quantity", 0.5)),
    ("5%", SizeSpec("percent", 5.0)), ("2.5 %", SizeSpec("percent", 2.5)),
    ("0.5x", SizeSpec("multiple", 0.5)), ("2X", SizeSpec("multiple", 2.0)), ("½x".replace("½", "0.5"), SizeSpec("multiple", 0.5)),
    ("1.5×", SizeSpec("multiple", 1.5)),
])
def test_size_forms(text: str, spec: SizeSpec) -> None:
    assert parse_size(text) == spec


@pytest.mark.parametrize("text", ["", "abc", "0", "-1", "0x", "5%%", "x2", "1,5", "1e3", "nan", "inf", "150%", "2 x 3", "0.5 btc"])
def test_garbled_sizes_say_what_is_accepted(text: str) -> None:
    with pytest.raises(SizeSpecError, match="0.25.*5%.*0.5x|more than zero|more than all"):
        parse_size(text)


def test_size_to_quantity() -> None:
    assert parse_size("0.25").quantity(equity=100_000, price=3000, suggested=1.0) == 0.25
    assert parse_size("6%").quantity(equity=100_000, price=3000, suggested=1.0) == pytest.approx(2.0)
    assert parse_size("0.5x").quantity(equity=100_000, price=3000, suggested=0.8) == pytest.approx(0.4)


def test_average_cost_books() -> None:
    book = apply_fill(Book(), "buy", 2, 100)
    book = apply_fill(book, "buy", 2, 110)
    assert (book.quantity, book.avg_price) == (4, 105)
    book = apply_fill(book, "sell", 1, 120)
    assert (book.quantity, book.avg_price, book.realized) == (3, 105, 15)
    book = apply_fill(book, "sell", 5, 100)  # closes 3 at a loss of 5 each, opens 2 short at 100
    assert (book.quantity, book.avg_price, book.realized) == (-2, 100, 0)
    short = books_from_fills([("ETH", "sell", 1, 50), ("ETH", "buy", 1, 40)])["ETH"]
    assert (short.quantity, short.realized) == (0, 10)


def test_fill_delta_from_cumulative_reports() -> None:
    assert fill_delta(0, None, 0.4, 100.0) == (0.4, 100.0)
    quantity, price = fill_delta(0.4, 100.0, 1.0, 104.0)
    assert quantity == pytest.approx(0.6) and price == pytest.approx(106.6666666)
    assert fill_delta(1.0, 104.0, 1.0, 104.0) is None


@given(st.lists(st.tuples(st.sampled_from(["buy", "sell"]), st.floats(0.01, 100), st.floats(1, 1000)), min_size=1, max_size=30),
       st.floats(1, 1000))
def test_realized_plus_unrealized_is_the_cash_flow(fills: list[tuple[str, float, float]], mark: float) -> None:
    """Whatever the sequence, P&L by average cost equals cash in and out plus the position at the mark."""
    book, cash = Book(), 0.0
    for side, quantity, price in fills:
        book = apply_fill(book, side, quantity, price)
        cash += (-1 if side == "buy" else 1) * quantity * price
    unrealized = (mark - book.avg_price) * book.quantity
    assert book.realized + unrealized == pytest.approx(cash + book.quantity * mark, rel=1e-9, abs=1e-6)
