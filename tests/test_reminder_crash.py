"""Crash test: a real ``python -m bot`` stopped mid-burst of 300 reminders, then started again.

SIGKILL may lose only the requests that were on the wire (they end as ``unknown``); SIGTERM loses
nothing; neither ever sends anyone two reminders.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.harness.crash import run_crash_scenario


@pytest.mark.slow
async def test_kill_and_term_mid_burst_never_double_and_lose_at_most_the_requests_in_flight(
    tmp_path: Path,
) -> None:
    killed, stopped = await asyncio.gather(
        run_crash_scenario(tmp_path / "kill", signal.SIGKILL),
        run_crash_scenario(tmp_path / "term", signal.SIGTERM),
    )
    print(f"\n{killed.line()}\n{stopped.line()}")
    assert 50 <= killed.arrived_before_stop < killed.users, "the kill must land mid-burst"
    assert 50 <= stopped.arrived_before_stop < stopped.users, "the signal must land mid-burst"
    assert killed.doubled == 0 and killed.lost <= 10
    assert killed.lost <= killed.unknown  # a lost one is one whose request was on the wire
    assert stopped.doubled == 0 and stopped.lost == 0 and stopped.unknown == 0
