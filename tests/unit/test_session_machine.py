"""The guided session's state machine, driven with explicit times (no sleeping)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.session import COUNTED_HOLD_SECONDS, SessionState, build_phases
from content.catalogue import Catalogue, load_catalogue
from content.planner import LEAD_IN_SECONDS, Routine, RoutineItem

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def routine_of(catalogue: Catalogue, *specs: tuple[str, int | None, int, str]) -> Routine:
    items = tuple(RoutineItem(catalogue[eid], hold, reps, sides, 5) for eid, hold, reps, sides in specs)  # type: ignore[arg-type]
    return Routine(date(2026, 3, 1), items)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_timeline_has_lead_in_holds_rests_and_switch(catalogue: Catalogue) -> None:
    routine = routine_of(catalogue, ("piriformis", 10, 2, "each"))
    kinds = [(p.kind, p.side, p.rep) for p in build_phases(routine)]
    assert kinds == [
        ("lead_in", 0, 1),
        ("hold", 0, 1), ("rest", 0, 2), ("hold", 0, 2),
        ("switch", 1, 1),
        ("hold", 1, 1), ("rest", 1, 2), ("hold", 1, 2),
    ]  # fmt: skip
    assert sum(p.seconds for p in build_phases(routine)) == routine.seconds


def test_the_rest_after_a_counted_hold_has_no_message_of_its_own(catalogue: Catalogue) -> None:
    def announced(hold: int) -> list[tuple[str, bool]]:
        state = SessionState.start(routine_of(catalogue, ("bridging", hold, 2, "both")), T0)
        steps = [(state.phase.kind, state.announced)]
        while (deadline := state.next_deadline()) is not None and state.advance(deadline) and state.live:
            steps.append((state.phase.kind, state.announced))
        return steps

    counted = [("lead_in", True), ("hold", True), ("rest", False), ("hold", True)]
    assert announced(5) == announced(COUNTED_HOLD_SECONDS) == counted
    assert announced(COUNTED_HOLD_SECONDS + 1) == [
        ("lead_in", True),
        ("hold", True),
        ("rest", True),
        ("hold", True),
    ]


def test_advances_by_itself_when_a_hold_ends(catalogue: Catalogue) -> None:
    state = SessionState.start(routine_of(catalogue, ("bridging", 8, 2, "both")), T0)
    assert state.phase.kind == "lead_in" and state.remaining(T0) == LEAD_IN_SECONDS
    assert not state.advance(at(9.9))
    assert state.advance(at(10)) and state.phase.kind == "hold" and state.remaining(at(10)) == 8
    # a late timer catches up over several phases, anchored to the schedule rather than to "now"
    assert state.advance(at(10 + 8 + 5 + 1))
    assert state.phase.kind == "hold" and state.phase.rep == 2 and state.remaining(at(24)) == 7
    state.advance(at(100))
    assert state.status == "finished" and state.counts and state.done_items == 1


def test_pause_freezes_the_countdown_and_resume_continues(catalogue: Catalogue) -> None:
    state = SessionState.start(routine_of(catalogue, ("bridging", 8, 1, "both")), T0, scale=0.5)
    state.advance(at(5))  # lead-in of 10 nominal seconds lasts 5 real seconds
    assert state.phase.kind == "hold"
    assert state.pause(at(7)) and not state.pause(at(7))
    assert state.remaining(at(500)) == 4  # 2 real seconds left = 4 nominal, however long the pause
    assert not state.advance(at(500))
    assert state.resume(at(500)) and not state.resume(at(500))
    assert state.advance(at(502)) and state.status == "finished"


def test_skips_move_to_the_next_exercise_and_count_against_completion(catalogue: Catalogue) -> None:
    routine = routine_of(
        catalogue, ("bridging", 8, 1, "both"), ("piriformis", 10, 1, "each"), ("cat-cow", 5, 1, "both")
    )
    state = SessionState.start(routine, T0)
    state.skip(at(1))
    assert state.item == 1 and state.phase.kind == "lead_in"
    state.skip(at(2))
    assert state.item == 2 and state.skipped == {0, 1}
    state.advance(at(1000))
    assert state.status == "finished" and state.done_items == 1 and not state.counts


PHASE_TIMES = {"lead_in": 1, "hold": 12, "rest": 22, "switch": 36}


@pytest.mark.parametrize("kind", ["lead_in", "hold", "rest", "switch", "manual"])
def test_it_hurts_pauses_on_every_kind_of_step_and_waits_for_a_choice(
    catalogue: Catalogue, kind: str
) -> None:
    spec = ("knee-to-chest-kicks", None, 10, "each") if kind == "manual" else ("piriformis", 10, 2, "each")
    state = SessionState.start(routine_of(catalogue, spec), T0)
    state.advance(at(PHASE_TIMES.get(kind, 10)))
    assert state.phase.kind == kind
    assert state.report_hurt(at(40)) and not state.report_hurt(at(41))
    assert state.status == "paused" and state.waiting_after_hurt and state.next_deadline() is None
    # nothing moves until the user chooses: no timer, no resume, no skip, no done
    assert not state.advance(at(100_000))
    assert not state.resume(at(50)) and not state.skip(at(50)) and not state.done(at(50))
    assert state.phase.kind == kind
    restored = SessionState.from_dict(state.to_dict())
    assert restored == state and restored.waiting_after_hurt


def test_going_on_after_a_hurt_on_the_last_exercise_finishes_and_counts(catalogue: Catalogue) -> None:
    routine = routine_of(catalogue, ("bridging", 8, 1, "both"), ("cat-cow", 5, 1, "both"))
    state = SessionState.start(routine, T0)
    state.advance(at(10 + 8))  # bridging done, cat-cow's lead-in
    assert state.item == 1
    assert state.report_hurt(at(19)) and state.status == "paused"
    assert state.go_on_after_hurt(at(30)) and not state.go_on_after_hurt(at(31))
    assert state.status == "finished" and state.hurt == {1} and state.done_items == 1
    assert state.counts  # one exercise done, then pain: the day still counts


def test_stopping_for_today_after_a_hurt_keeps_the_day_if_one_exercise_was_done(catalogue: Catalogue) -> None:
    routine = routine_of(
        catalogue, ("bridging", 8, 1, "both"), ("cat-cow", 5, 1, "both"), ("piriformis", 10, 1, "each")
    )
    state = SessionState.start(routine, T0)
    state.advance(at(19))
    state.report_hurt(at(19))
    assert state.stop() and state.status == "stopped" and not state.waiting_after_hurt
    assert state.done_items == 1 and state.counts

    first = SessionState.start(routine, T0)
    first.report_hurt(at(1))
    first.stop()
    assert first.done_items == 0 and not first.counts  # nothing done yet: no streak day


def test_half_done_counts(catalogue: Catalogue) -> None:
    routine = routine_of(catalogue, ("bridging", 8, 1, "both"), ("cat-cow", 5, 1, "both"))
    state = SessionState.start(routine, T0)
    state.skip(at(1))
    state.advance(at(1000))
    assert state.done_items == 1 and state.counts


def test_stopped_session_never_counts(catalogue: Catalogue) -> None:
    state = SessionState.start(routine_of(catalogue, ("bridging", 8, 1, "both")), T0)
    state.advance(at(15))
    assert state.stop() and not state.stop()
    assert state.status == "stopped" and not state.counts and not state.live
    assert not state.skip(at(16)) and not state.pause(at(16)) and not state.advance(at(1000))


def test_manual_phase_waits_for_done(catalogue: Catalogue) -> None:
    state = SessionState.start(routine_of(catalogue, ("knee-to-chest-kicks", None, 30, "both")), T0)
    state.advance(at(10))
    assert state.phase.kind == "manual" and state.next_deadline() is None
    assert not state.advance(at(10_000))
    assert state.done(at(10_001)) and state.status == "finished"


def test_unknown_snapshot_version_is_rejected() -> None:
    with pytest.raises(ValueError):
        SessionState.from_dict({"v": 99})
