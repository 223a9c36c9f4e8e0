"""Benchmark: how long the exercise pictures (issue 13) take to render, cold and from the disk cache.

Prints, for every exercise, the render time and the file size, then the whole catalogue: a cold pass
into an empty cache folder (the first one in a fresh process also imports matplotlib) and a cached pass
(what every later /stretch costs before the upload, which happens once; after it the bot sends the
stored file_id and touches no file at all).

Run: .venv/bin/python bench/figures.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from content import figures


def main() -> None:
    started = time.perf_counter()
    loaded = figures.figures()
    load_time = time.perf_counter() - started
    print(f"load and validate poses.toml ({len(loaded)} exercises): {load_time * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        print(f"{'exercise':24} {'kind':4} {'cold':>8} {'cached':>8} {'size':>9}")
        cold_total = cached_total = 0.0
        for exercise_id in loaded:
            started = time.perf_counter()
            path, _, kind = figures.cached_image(exercise_id, cache)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            figures.cached_image(exercise_id, cache)
            cached = time.perf_counter() - started
            cold_total += cold
            cached_total += cached
            size = path.stat().st_size
            print(
                f"{exercise_id:24} {kind:4} {cold * 1000:6.0f} ms {cached * 1000:6.2f} ms {size / 1000:6.1f} KB"
            )
        print(f"whole catalogue, cold (first includes importing matplotlib): {cold_total:.2f} s")
        print(f"whole catalogue, cached: {cached_total * 1000:.1f} ms")
        started = time.perf_counter()
        for exercise_id in loaded:
            figures.render(loaded[exercise_id])
        print(
            f"whole catalogue, warm re-render (matplotlib loaded, no cache): {time.perf_counter() - started:.2f} s"
        )


if __name__ == "__main__":
    main()
