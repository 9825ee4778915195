"""Labels beside their own marks: each takes the first candidate spot where it covers no other mark and no
label placed before it. The geometry is the renderer's own, in pixels, so what is checked is what is drawn
(tests read it back from the figure, not from the pixels)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

GAP_POINTS = 4.0


@dataclass(frozen=True)
class Mark:
    x: float  # data coordinates (dates as matplotlib date numbers)
    y: float
    radius: float  # points
    below_first: bool = False  # the line reaches the mark from above: a label above would hide it


@dataclass(frozen=True)
class Spot:
    dx: float  # offset from the mark, points
    dy: float
    ha: str
    va: str


Away = tuple[float, float]  # unit vector (pixels) away from the other marks; (0, 0): no side preferred


def beside(mark: Mark, away: Away = (0.0, 0.0)) -> list[Spot]:
    """Touching the mark's edge: right, left, above, below, the sides facing away from the other marks first."""
    reach = mark.radius + GAP_POINTS
    spots = [Spot(reach, 0, "left", "center"), Spot(-reach, 0, "right", "center"),
             Spot(0, reach, "center", "bottom"), Spot(0, -reach, "center", "top")]
    return sorted(spots, key=lambda s: -(s.dx * away[0] + s.dy * away[1]))  # stable: right first on a tie


def above_or_below(mark: Mark, away: Away = (0.0, 0.0), rows: int = 4) -> list[Spot]:
    """Further and further above and below the mark (below first when it says so), a little to either side:
    for labels on a leader line."""
    spots: dict[int, list[Spot]] = {1: [], -1: []}
    for row in range(rows):
        reach = mark.radius + GAP_POINTS + 26 * row
        for dx in (0, 14, -14):
            spots[1].append(Spot(dx, reach, "center", "bottom"))
            spots[-1].append(Spot(dx, -reach, "center", "top"))
    return spots[-1] + spots[1] if mark.below_first else spots[1] + spots[-1]


def place_labels(figure: Figure, ax: Axes, marks: Sequence[Mark], texts: Sequence[str],
                 spots: Callable[[Mark, Away], list[Spot]] = beside, leader: bool = False, pad: float = 1.0,
                 **style: Any) -> list[Annotation]:
    """One annotation per mark, at its first free spot inside the axes (the last candidate when none is free);
    `pad` points of room around each label's text (more when the text sits in a box)."""
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    centres = ax.transData.transform([(m.x, m.y) for m in marks])
    pixels = figure.dpi / 72
    frame = ax.get_window_extent(renderer)
    placed: list[Annotation] = []
    taken: list[Bbox] = []
    for i, (mark, text) in enumerate(zip(marks, texts)):
        label = None
        for spot in spots(mark, _away(centres, i)):
            if label is not None:
                label.remove()
            away = spot.dx or abs(spot.dy) > mark.radius + GAP_POINTS  # not touching the mark: draw a leader
            arrow: dict[str, Any] | None = {"arrowstyle": "-", "color": "#555555", "linewidth": 1, "shrinkA": 0,
                                            "shrinkB": mark.radius} if leader and away else None
            label = ax.annotate(text, (mark.x, mark.y), textcoords="offset points", xytext=(spot.dx, spot.dy),
                                ha=spot.ha, va=spot.va, arrowprops=arrow, **style)
            box = label_box(label, renderer).padded(pad * pixels)
            covers = any(_meets(box, centres[j], marks[j].radius * pixels) for j in range(len(marks)) if j != i)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not covers and not any(box.overlaps(other) for other in taken):
                break
        assert label is not None
        placed.append(label)
        taken.append(label_box(label, renderer).padded(pad * pixels))
    return placed


def _away(centres: Any, i: int) -> Away:
    """Which way the other marks push this one's label: each pushes away from itself, the nearer the harder
    (1/distance²). Pushes that nearly cancel (a mark in the middle of a row) count as none, so that the
    default side holds and labels along a row sit on one side."""
    push_x = push_y = total = 0.0
    for j, other in enumerate(centres):
        dx, dy = centres[i][0] - other[0], centres[i][1] - other[1]
        distance = (dx * dx + dy * dy) ** 0.5
        if j == i or distance == 0:
            continue
        push_x, push_y, total = push_x + dx / distance ** 3, push_y + dy / distance ** 3, total + 1 / distance ** 2
    length = (push_x * push_x + push_y * push_y) ** 0.5
    if total == 0 or length < 0.2 * total:
        return (0.0, 0.0)
    return (push_x / length, push_y / length)


def label_box(label: Annotation, renderer: Any) -> Bbox:
    """Where the label's text (and the box drawn around it) is, in pixels; not its leader line."""
    label.update_positions(renderer)
    box = Text.get_window_extent(label, renderer)
    patch = label.get_bbox_patch()
    if patch is None:
        return box
    label.update_bbox_position_size(renderer)
    return Bbox.union([box, patch.get_window_extent(renderer)])


def _meets(box: Bbox, centre: Sequence[float], radius: float) -> bool:
    nearest_x = min(max(centre[0], box.x0), box.x1)
    nearest_y = min(max(centre[1], box.y0), box.y1)
    return bool((nearest_x - centre[0]) ** 2 + (nearest_y - centre[1]) ** 2 <= radius ** 2)
