"""The operator's /size argument: a quantity ("0.25"), a share of equity ("5%") or a multiple ("0.5x"),
and the bounds any size must keep whatever its form.

Only ASCII digits count ("١" or "²" are not numbers here, though Python's float() reads some of them).
A size has a floor and a ceiling: a quantity finer than a broker takes or an order worth less than its
minimum (Alpaca: 1 USD for a fractional order, never below one cent) is refused as too small; one whose
value is beyond any account, or not a finite number at all (four hundred nines), as too large.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUMBER = r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_FORMS = (
    ("percent", re.compile(rf"^{_NUMBER}\s*%$", re.ASCII)),
    ("multiple", re.compile(rf"^{_NUMBER}\s*[x×]$", re.ASCII | re.IGNORECASE)),
    ("quantity", re.compile(rf"^{_NUMBER}$", re.ASCII)),
)
HELP = 'a quantity like 0.25, a share of equity like 5%, or a multiple of the suggested size like 0.5x'
MIN_QUANTITY = 1e-9  # the finest quantity a broker takes (Alpaca: nine decimal places)
MAX_VALUE = 1e12  # no quantity, multiple or order value beyond this fits any account
MIN_NOTIONAL_FLOOR = 0.01  # one cent: the least any order may be worth, whatever the settings say


class SizeSpecError(ValueError):
    """The argument is not a size; the message says what is accepted."""


@dataclass(frozen=True)
class SizeSpec:
    kind: str  # quantity | percent | multiple
    value: float

    def quantity(self, equity: float, price: float, suggested: float) -> float:
        if self.kind == "quantity":
            return self.value
        if self.kind == "percent":
            return equity * self.value / 100.0 / price
        return suggested * self.value

    def describe(self) -> str:
        return {"quantity": f"{self.value:g}", "percent": f"{self.value:g}% of equity",
                "multiple": f"{self.value:g}x the suggested size"}[self.kind]


def parse_size(text: str) -> SizeSpec:
    # No guessing at "1,5" (one and a half or fifteen?): a comma is refused with the accepted forms.
    cleaned = text.strip()
    for kind, pattern in _FORMS:
        match = pattern.match(cleaned)
        if match:
            value = float(match.group(1))
            if not math.isfinite(value) or value > MAX_VALUE:
                raise SizeSpecError(f"{_short(cleaned)} is too large (at most {MAX_VALUE:,.0f}); give {HELP}")
            if value <= 0:
                raise SizeSpecError(f"the size must be more than zero; give {HELP}")
            if kind == "percent" and value > 100:
                raise SizeSpecError(f"{value:g}% is more than all of the equity; give {HELP}")
            if kind == "quantity" and value < MIN_QUANTITY:
                raise SizeSpecError(f"{_short(cleaned)} is too small: a broker takes quantities down to "
                                    f"{MIN_QUANTITY:.9f}; give {HELP}")
            return SizeSpec(kind, value)
    raise SizeSpecError(f"{_short(text.strip()) if text.strip() else 'nothing'!s} is not a size; give {HELP}")


def order_size_problem(quantity: float, price: float, min_notional: float) -> str | None:
    """Why an order of `quantity` at `price` cannot be sent, or None: too large for any account, finer than a
    broker takes, or worth less than the broker's minimum (`min_notional`, at least one cent)."""
    notional = quantity * price
    if not (math.isfinite(quantity) and math.isfinite(notional)) or quantity > MAX_VALUE or notional > MAX_VALUE:
        return (f"{quantity:.6g} at {price:,.6g} USD is too large: more than {MAX_VALUE:,.0f} USD, beyond any "
                "account")
    floor = max(min_notional, MIN_NOTIONAL_FLOOR)
    if not quantity >= MIN_QUANTITY:
        return f"{quantity:.3g} is too small: a broker takes quantities down to {MIN_QUANTITY:.9f}"
    if notional < floor:
        return (f"{quantity:.6g} comes to about {notional:.2g} USD, too small: the broker's minimum order is "
                f"{floor:,.2f} USD")
    return None


def _short(text: str) -> str:
    """The argument as shown back: at most 24 characters (four hundred nines are not repeated whole)."""
    return repr(text if len(text) <= 24 else text[:20] + "…")
