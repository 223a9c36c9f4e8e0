"""The /progress picture: 30 days of pain scores with their 7-day average, and a strip of session days.

Rendered with matplotlib's Agg backend (no display). ``render_progress`` is CPU-bound: call it in a
worker thread so the event loop keeps serving other chats.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

DAYS = 30


def _rolling_mean(by_day: dict[date, float], days: list[date]) -> list[float | None]:
    out: list[float | None] = []
    for day in days:
        window = [by_day[d] for d in (day - timedelta(days=k) for k in range(7)) if d in by_day]
        out.append(sum(window) / len(window) if window else None)
    return out


def render_progress(scores: Sequence[tuple[date, int]], done_days: Iterable[date], today: date) -> bytes:
    """A PNG, readable on a phone: big fonts, two panels, no clutter."""
    from matplotlib import rc_context
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backends

    days = [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    first = days[0]
    by_day: dict[date, list[int]] = {}
    for day, value in scores:
        if first - timedelta(days=6) <= day <= today:
            by_day.setdefault(day, []).append(value)
    daily = {day: sum(v) / len(v) for day, v in by_day.items()}
    done = {d for d in done_days if first <= d <= today}

    with rc_context({"font.size": 15}):
        figure = Figure(figsize=(8, 6), dpi=110, layout="constrained")
        top, strip = figure.subplots(2, 1, gridspec_kw={"height_ratios": [4, 1]})
        return _draw(figure, top, strip, days, daily, done, ListedColormap)


def _draw(figure: Any, top: Any, strip: Any, days: list[date], daily: dict[date, float], done: set[date],
          colormap: Any) -> bytes:  # fmt: skip
    xs = list(range(DAYS))
    points = [(x, daily[d]) for x, d in zip(xs, days, strict=True) if d in daily]
    if points:
        top.plot(
            [p[0] for p in points], [p[1] for p in points], "o", color="#5b8def", markersize=8, label="score"
        )
    average = _rolling_mean(daily, days)
    top.plot(xs, [a if a is not None else float("nan") for a in average], "-", color="#e4572e", linewidth=3,
             label="7-day average")  # fmt: skip
    top.set_ylim(-0.5, 10.5)
    top.set_yticks([0, 2, 4, 6, 8, 10])
    top.set_xlim(-0.5, DAYS - 0.5)
    top.set_xticks([0, 7, 14, 21, 29], [days[i].strftime("%d %b") for i in (0, 7, 14, 21, 29)])
    top.set_title("Your back, last 30 days (0 = no pain)")
    top.grid(alpha=0.3)
    top.legend(loc="best", fontsize=12, framealpha=0.8)

    cells = [[1 if d in done else 0 for d in days]]
    strip.imshow(cells, aspect="auto", cmap=colormap(["#eeeeee", "#3bb273"]), vmin=0, vmax=1)
    strip.set_yticks([])
    strip.set_xticks([0, 7, 14, 21, 29], [days[i].strftime("%d %b") for i in (0, 7, 14, 21, 29)])
    strip.set_title(f"Sessions completed: {len(done)} of {DAYS} days", fontsize=14)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")  # Figure.savefig uses the Agg canvas: no display needed
    return buffer.getvalue()


def warm_up() -> None:
    """Import matplotlib ahead of the first /progress (call from a worker thread at start-up)."""
    from matplotlib.figure import Figure  # noqa: F401
