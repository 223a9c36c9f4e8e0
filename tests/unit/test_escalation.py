"""Honest pain feedback and escalation, as pain-series tables (a physiotherapist's review, NICE NG59).

Each series is one score a day, the last one today, unless the row says on which days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.progress import (
    DayScore,
    Escalation,
    Score,
    escalation,
    pain_feedback,
    reason_words,
)
from bot.stats_render import pain_reply
from content.planner import choose_mode

TODAY = date(2026, 11, 24)


def series(values: Sequence[int], days_ago: Sequence[int] | None = None, today: date = TODAY) -> list[Score]:
    """Scores on consecutive days ending today, or ``days_ago`` each (oldest first)."""
    offsets = list(days_ago) if days_ago is not None else list(range(len(values) - 1, -1, -1))
    scores = []
    for n, (ago, value) in enumerate(zip(offsets, values, strict=True)):
        day = today - timedelta(days=ago)
        scores.append(Score(datetime(day.year, day.month, day.day, 9, n, tzinfo=UTC), day, value))
    return scores


def pairs(scores: Sequence[Score]) -> list[DayScore]:
    return [(s.day, s.value) for s in scores]


def kinds(found: Escalation) -> list[str]:
    return [r.kind for r in found.reasons]


# values, "since last time" words, praise, see a professional, gentle next routine
FEEDBACK = [
    ([3, 2], "about the same", True, False, False),
    ([2, 2], "about the same", True, False, False),
    ([4, 2], "2 points better 👍", True, False, False),
    ([2, 3], "about the same", False, False, False),  # a rise, however small, gets no praise
    ([0, 3], "3 points worse", False, True, True),  # 0 → 3: a rise of 3, never "good to hear"
    ([1, 3], "2 points worse", False, False, False),
    ([5, 4], "about the same", False, False, False),  # 4 is not low
    ([2, 6], "4 points worse", False, True, True),
    ([3, 5, 7, 9], "2 points worse", False, True, True),  # a steady climb
    ([8, 9], "about the same", False, False, True),  # high: gentle, not yet a pattern
    ([9, 9, 9], "about the same", False, True, True),
    ([7, 5], "2 points better.", False, False, True),  # yesterday's 7 still keeps it gentle: no 👍
]


@pytest.mark.parametrize(("values", "since_last", "praise", "professional", "gentle"), FEEDBACK)
def test_feedback_table(
    values: list[int], since_last: str, praise: bool, professional: bool, gentle: bool
) -> None:
    feedback = pain_feedback(series(values), TODAY)
    assert (feedback.praise, feedback.see_professional, feedback.escalation.gentle) == (
        praise,
        professional,
        gentle,
    )
    reply = pain_reply(feedback)
    assert f"Since last time ({values[-2]}): {since_last}" in reply
    assert ("Good to hear" in reply) is praise
    assert ("GP or a physiotherapist" in reply) is (professional or feedback.high)
    if professional or gentle:
        assert "/safety" in reply
    assert "(+" not in reply and "(-" not in reply and "rep" not in reply.lower()


@pytest.mark.parametrize(
    ("values", "days_ago", "expected"),
    [
        ([2, 6], None, ["rise"]),
        ([0, 3], None, ["rise"]),
        ([6, 9], None, ["rise", "high_score"]),
        ([3, 5, 7, 9], None, ["climb", "high_score"]),
        ([9, 9, 9, 9], [4, 3, 1, 0], ["high_days", "high_score"]),  # 9 on days 1, 2, 4 and 5
        ([9, 9, 9], [3, 2, 0], ["high_days", "high_score"]),  # day 4: already 3 of 5
        ([9, 9], [1, 0], ["high_score"]),  # two days: gentle, not yet a pattern
        ([8, 2, 8, 2, 8], None, ["high_days", "rise", "high_score"]),
        ([8, 2, 2, 2, 2, 8, 8], None, ["high_score"]),  # 3 highs, but not within 5 days
        ([1, 2, 4], None, ["climb"]),
        ([1, 2, 3], [6, 3, 0], ["climb"]),  # a climb may skip days within the week
        ([1, 2, 3], [8, 3, 0], []),  # the first one is more than a week ago
        ([4, 5], None, []),
        ([2, 3, 3], None, []),  # not higher each time
        ([5, 4, 5, 6], None, ["climb"]),  # 4 → 5 → 6: a rise of 2 over 3 days
        ([6, 6, 6], None, []),
        ([7], [3], []),  # a single 7 fades after 3 days
        ([7], [2], ["high_score"]),
    ],
)
def test_escalation_table(values: list[int], days_ago: list[int] | None, expected: list[str]) -> None:
    found = escalation(pairs(series(values, days_ago)), TODAY)
    assert kinds(found) == expected
    assert found.gentle is bool(expected)
    assert found.see_professional is bool(set(expected) - {"high_score"})


def test_several_scores_in_one_day_are_not_a_climb() -> None:
    day = TODAY
    scores = [Score(datetime(2026, 11, 24, h, tzinfo=UTC), day, v) for h, v in ((8, 1), (12, 2), (18, 3))]
    assert "climb" not in kinds(escalation(pairs(scores), TODAY))


def test_a_single_seven_makes_routines_gentle_then_fades_after_three_days() -> None:
    scores = pairs(series([2, 7], [1, 0]))
    assert [choose_mode(scores, [], TODAY + timedelta(days=n)) for n in range(5)] == [
        "gentle",
        "gentle",
        "gentle",
        "balanced",
        "balanced",
    ]
    again = [*scores, (TODAY + timedelta(days=2), 7)]  # another high score starts the count again
    assert choose_mode(again, [], TODAY + timedelta(days=4)) == "gentle"
    assert choose_mode(again, [], TODAY + timedelta(days=5)) == "balanced"
    later = pain_feedback(series([2, 7, 3], [1, 0, -1], today=TODAY), TODAY + timedelta(days=1))
    assert not later.see_professional and later.escalation.gentle and not later.praise
    assert "so your routines stay gentle" in pain_reply(later) and "/safety" in pain_reply(later)


def test_reply_and_planner_read_the_same_escalation() -> None:
    for values in ([2, 6], [3, 5, 7, 9], [1, 1], [7], [0, 3], [5, 5, 5]):
        scores = series(values)
        feedback = pain_feedback(scores, TODAY)
        mode = choose_mode(pairs(scores), [], TODAY)
        assert feedback.escalation == escalation(pairs(scores), TODAY)
        assert (mode == "gentle") is feedback.escalation.gentle


def _weeks(first_week: int, later: int, weeks: int = 6) -> list[DayScore]:
    """A score every other day: the first week at ``first_week``, then ``later`` up to today."""
    start = TODAY - timedelta(days=weeks * 7)
    days = [start + timedelta(days=n) for n in range(0, weeks * 7 + 1, 2)]
    return [(d, first_week if d < start + timedelta(days=7) else later) for d in days]


@pytest.mark.parametrize(
    ("scores", "stuck"),
    [
        (_weeks(6, 6), True),  # six weeks, no better
        (_weeks(8, 6), True),  # 2 points but only 25%: not a meaningful improvement yet
        (_weeks(6, 5), True),  # 1 point better is about the same
        (_weeks(6, 3), False),  # meaningfully better
        (_weeks(7, 4), False),
        (_weeks(6, 6, weeks=5), False),  # not six weeks yet
        (_weeks(2, 2), False),  # low pain that stays low is not a worry
    ],
)
def test_no_improvement_after_six_weeks(scores: list[DayScore], stuck: bool) -> None:
    found = escalation(scores, TODAY)
    assert ("no_improvement" in kinds(found)) is stuck
    if stuck:
        assert found.urgency == "routine" and choose_mode(scores, [], TODAY) == "gentle"


def test_the_reply_says_which_help_how_soon_and_points_to_safety() -> None:
    soon = pain_reply(pain_feedback(series([2, 6]), TODAY))
    assert "Your pain went up from 2 to 6 today." in soon
    assert "book an appointment with your GP or a physiotherapist in the next few days" in soon
    assert "emergency department" in soon and "999" in soon and "/safety" in soon
    assert "Good to hear" not in soon and "👍" not in soon

    stuck = _weeks(6, 6)
    scores = [Score(datetime(d.year, d.month, d.day, 9, tzinfo=UTC), d, v) for d, v in stuck]
    routine = pain_reply(pain_feedback(scores, TODAY))
    assert "after 6 weeks your pain is no better than in your first week" in routine.lower()
    assert "in the next couple of weeks" in routine and "/safety" in routine

    high = pain_reply(pain_feedback(series([7]), TODAY))
    assert "gentle" in high and "GP or a physiotherapist" in high and "/safety" in high


def test_reason_words_name_the_cause() -> None:
    found = escalation(pairs(series([3, 5, 7, 9])), TODAY)
    assert (
        reason_words(found.reasons[0], TODAY)
        == "your pain has kept going up since Sat 21 Nov (3 → 5 → 7 → 9)"
    )
    assert reason_words(found.reasons[1], TODAY) == "you scored 9 today"
    assert reason_words(found.reasons[1], TODAY + timedelta(days=1)) == "you scored 9 yesterday"
    assert reason_words(found.reasons[1], TODAY + timedelta(days=2)) == "you scored 9 on Tue 24 Nov"
    days = escalation(pairs(series([9, 9, 9, 9], [4, 3, 1, 0])), TODAY).reasons[0]
    assert reason_words(days, TODAY) == "your pain was 7 or more on 4 of the last 5 days"


@given(st.lists(st.integers(0, 10), min_size=2, max_size=12))
def test_never_praise_next_to_worsening(values: list[int]) -> None:
    feedback = pain_feedback(series(values), TODAY)
    reply = pain_reply(feedback)
    if values[-1] > values[-2] or feedback.escalation.reasons:
        assert "Good to hear" not in reply and "👍" not in reply
    if values[-1] > 3:
        assert "Good to hear" not in reply
    if feedback.see_professional:
        assert "/safety" in reply and "GP or a physiotherapist" in reply
    if values[-1] - values[-2] >= 3:
        assert feedback.see_professional
