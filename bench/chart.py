"""Benchmark: how long /progress takes to render its chart (issue 5's target: under half a second).

Prints the first render in a fresh process (matplotlib imported on the spot) and the median of the
next ten, with 30 days of scores and sessions. The bot imports matplotlib in a worker thread at
start-up, so users see the second figure.

Run: .venv/bin/python bench/chart.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.charts import render_progress

TODAY = date(2026, 11, 24)
SCORES = [(TODAY - timedelta(days=n), 3 + (n * 7) % 5) for n in range(30)]
DAYS = [TODAY - timedelta(days=n) for n in range(0, 30, 2)]


def main() -> None:
    started = time.perf_counter()
    png = render_progress(SCORES, DAYS, TODAY)
    first = time.perf_counter() - started
    times = []
    for _ in range(10):
        started = time.perf_counter()
        render_progress(SCORES, DAYS, TODAY)
        times.append(time.perf_counter() - started)
    print(f"chart size: {len(png) / 1024:.0f} KiB")
    print(f"first render in a fresh process (imports matplotlib): {first:.2f} s")
    print(f"render once warm (median of 10): {statistics.median(times):.3f} s  (target < 0.5 s)")


if __name__ == "__main__":
    main()
