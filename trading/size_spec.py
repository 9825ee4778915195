"""The operator's /size argument: a quantity ("0.25"), a share of equity ("5%") or a multiple ("0.5x")."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_FORMS = (
    ("percent", re.compile(rf"^{_NUMBER}\s*%$")),
    ("multiple", re.compile(rf"^{_NUMBER}\s*[x×]$", re.IGNORECASE)),
    ("quantity", re.compile(rf"^{_NUMBER}$")),
)
HELP = 'a quantity like 0.25, a share of equity like 5%, or a multiple of the suggested size like 0.5x'


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
            if not math.isfinite(value) or value <= 0:
                raise SizeSpecError(f"the size must be more than zero; give {HELP}")
            if kind == "percent" and value > 100:
                raise SizeSpecError(f"{value:g}% is more than all of the equity; give {HELP}")
            return SizeSpec(kind, value)
    shown = text.strip()[:40] or "nothing"
    raise SizeSpecError(f"{shown!r} is not a size; give {HELP}")
