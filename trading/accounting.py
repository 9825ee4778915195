"""Average-cost position accounting, pure: used by the simulator's books and for our realised P&L."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Book:
    quantity: float = 0.0  # signed: negative is short
    avg_price: float = 0.0
    realized: float = 0.0


def signed(side: str, quantity: float) -> float:
    return quantity if side == "buy" else -quantity


def apply_fill(book: Book, side: str, quantity: float, price: float) -> Book:
    """The position after one fill: adding keeps a weighted average, reducing realises P&L at that
    average, and crossing zero opens the remainder at the fill price."""
    delta = signed(side, quantity)
    held = book.quantity
    if held == 0 or held * delta > 0:
        total = held + delta
        avg = (abs(held) * book.avg_price + abs(delta) * price) / abs(total)
        return Book(total, avg, book.realized)
    closed = min(abs(delta), abs(held))
    direction = 1.0 if held > 0 else -1.0
    realized = book.realized + (price - book.avg_price) * closed * direction
    remaining = held + delta
    if abs(remaining) < 1e-12:
        return Book(0.0, 0.0, realized)
    if remaining * held > 0:
        return Book(remaining, book.avg_price, realized)
    return Book(remaining, price, realized)


def books_from_fills(fills: Iterable[tuple[str, str, float, float]]) -> dict[str, Book]:
    """Per-symbol books from (symbol, side, quantity, price) in fill order."""
    books: dict[str, Book] = {}
    for symbol, side, quantity, price in fills:
        books[symbol] = apply_fill(books.get(symbol, Book()), side, quantity, price)
    return books


def fill_delta(old_qty: float, old_avg: float | None, new_qty: float, new_avg: float | None) -> tuple[float, float] | None:
    """The quantity and price of what filled between two looks at one order (brokers report cumulative
    quantity and average price); None when nothing new filled."""
    added = new_qty - old_qty
    if added <= 1e-12 or new_avg is None:
        return None
    price = (new_qty * new_avg - old_qty * (old_avg or 0.0)) / added
    return added, price
