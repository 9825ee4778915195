"""One refusal per stranger per interval: the rest are logged, not answered.

Three hundred strangers sending /start used to get three hundred replies through the same Telegram
rate limit the operators' answers use (and one stranger could make the bot answer every message).
A stranger learns once that the bot is not for them (with their user id, for /start and /help);
what they send within the next interval is still refused and logged, silently. The memory is
bounded: the oldest entries go first once `capacity` strangers are remembered.
"""
from __future__ import annotations

from collections import OrderedDict


class RefusalLimit:
    def __init__(self, interval_seconds: float, capacity: int = 100_000) -> None:
        self.interval = interval_seconds
        self.capacity = capacity
        self._answered: OrderedDict[int | None, float] = OrderedDict()  # user -> when last answered (monotonic)

    def allow(self, user_id: int | None, now: float) -> bool:
        """True when `user_id` may be answered now (and counts it as answered)."""
        last = self._answered.get(user_id)
        if last is not None and now - last < self.interval:
            return False
        self._answered[user_id] = now
        self._answered.move_to_end(user_id)
        while len(self._answered) > self.capacity:
            self._answered.popitem(last=False)
        return True
