"""Benchmark: reminders survive a crash — 300 users due in one minute, the bot stopped mid-burst.

A real ``python -m bot`` sends through the loopback fake Bot API (SEND_RATE paces it so the signal
lands mid-burst); after about 100 reminders it gets SIGKILL (or SIGTERM), is started again and
finishes. Prints per signal how many users got no reminder (lost) and how many got two (doubled).
Targets: SIGKILL 0 doubled and at most the requests on the wire lost (they end as ``unknown``);
SIGTERM 0 lost, 0 doubled.

Run: .venv/bin/python bench/reminder_crash.py [--users 300] [--stop-after 100] [--send-rate 25]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.crash import run_crash_scenario


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--stop-after", type=int, default=100)
    parser.add_argument("--send-rate", type=float, default=25.0)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="reminder-crash-") as tmp:
        for sig in (signal.SIGKILL, signal.SIGTERM):
            result = await run_crash_scenario(
                Path(tmp) / sig.name,
                sig,
                users=args.users,
                stop_after=args.stop_after,
                send_rate=args.send_rate,
            )
            print(result.line(), flush=True)
            allowed = 10 if sig == signal.SIGKILL else 0
            failed |= result.doubled > 0 or result.lost > allowed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
