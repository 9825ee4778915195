"""How long work reports how far it got: stages with a count, told to whoever shows it (or nobody).

Only the interface lives here, with the silent default: the replay, the walk-forward and the
evaluation call it without knowing whether a terminal is watching. cli/progress.py draws it.
"""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Callable, Protocol

Tick = Callable[[int], None]  # n more items of the stage done


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None, unit: str = "item") -> AbstractContextManager[Tick]:
        """One stage of the work: `with progress.stage("sentiment", 20_000, "headline") as tick: ... tick(512)`."""
        ...


def _ignore(n: int) -> None:
    return None


class Silent:
    """Reports nothing: the default wherever no one watches."""

    def stage(self, name: str, total: int | None = None, unit: str = "item") -> AbstractContextManager[Tick]:
        return nullcontext(_ignore)


SILENT: Progress = Silent()
