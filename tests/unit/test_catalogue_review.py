"""The physiotherapist's safety review of the catalogue, as assertions on the loaded catalogue text."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from content.catalogue import Exercise, load_catalogue
from content.planner import PlanOptions, candidate_pool, plan_routine

CATALOGUE = load_catalogue()
ROUTINE = CATALOGUE.routine_exercises
DAY = date(2026, 11, 24)

FORWARD_BENDING = (
    "back-flexion",
    "knee-to-chest",
    "knee-to-chest-single",
    "knee-to-chest-kicks",
    "knee-rolls",
    "childs-pose",
    "abdominal-brace-reach",
)
PRESS_UPS = ("prone-press-up", "prone-on-elbows")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def instructions(exercise: Exercise) -> str:
    """Everything a user reads about the exercise (aliases are only for typing, so not included)."""
    parts = [
        exercise.name,
        *exercise.targets,
        exercise.start,
        *exercise.steps,
        exercise.feel,
        *exercise.cues,
        *exercise.cautions,
        exercise.card_caution or "",
        exercise.dose.note,
    ]
    return " ".join(parts)


def routines(modes: tuple[str, ...] = ("balanced", "gentle", "progress"), users: int = 40) -> list[list[str]]:
    out = []
    for mode in modes:
        for user_id in range(1, users + 1):
            options = PlanOptions(mode=mode)  # type: ignore[arg-type]
            out.append(
                list(plan_routine(CATALOGUE, user_id, DAY + timedelta(days=user_id), options).exercise_ids)
            )
    return out


# --- 1, 2: the figure-four buttock stretch is merged into the piriformis stretch ------------------------


def test_only_one_figure_four_entry_exists() -> None:
    def figure_four(e: Exercise) -> bool:
        names = " ".join((e.id, e.name, *e.aliases)).lower()
        return any(n in names for n in ("figure four", "figure 4", "piriformis", "buttock stretch"))

    assert [e.id for e in CATALOGUE if figure_four(e)] == ["piriformis"]


def test_a_routine_never_holds_the_figure_four_stretch_twice() -> None:
    for ids in routines():
        assert "buttock-stretch" not in ids
        assert len(ids) == len(set(ids))
        assert ids.count("piriformis") <= 1


def test_the_piriformis_stretch_is_set_up_and_sided_correctly() -> None:
    piriformis = CATALOGUE["piriformis"]
    start = piriformis.start.lower()
    assert "knees bent" in start and "feet flat" in start, "crossing an ankle over a knee needs bent knees"
    assert "straight" not in start
    steps = " ".join(piriformis.steps).lower()
    assert "right ankle" in steps and "left thigh" in steps
    assert "right buttock" in steps, "the stretch is felt on the side of the crossed leg"
    assert "left buttock" not in steps
    assert "crossed leg" in piriformis.feel.lower()
    assert {"000", "001", "003", "004"} <= set(piriformis.sources)
    assert {"buttock stretch", "figure four", "buttock stretch (figure four)"} <= set(piriformis.aliases)


def test_the_piriformis_start_is_in_our_own_words() -> None:
    article = words("Lie on your back with knees bent and heels on the floor.")
    ours = words(CATALOGUE["piriformis"].start)
    longest = max(
        (
            n
            for n in range(1, len(ours) + 1)
            for i in range(len(ours) - n + 1)
            if _contains(article, ours[i : i + n])
        ),
        default=0,
    )
    assert longest <= 3, f"{longest} words in a row match the article's sentence"
    assert "heels" not in ours


def _contains(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


# --- 3: forward bending ---------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", FORWARD_BENDING)
def test_forward_bending_names_osteoporosis_fracture_and_surgery(exercise_id: str) -> None:
    exercise = CATALOGUE[exercise_id]
    assert "flexion" in exercise.directions
    cautions = " ".join(exercise.cautions).lower()
    assert "osteoporosis" in cautions and "fracture" in cautions and "surgery" in cautions
    assert "doctor" in cautions or "physio" in cautions


def test_no_exercise_implies_a_diagnosis() -> None:
    for exercise in CATALOGUE:
        assert "disc" not in words(instructions(exercise)), exercise.id
        assert "herniat" not in instructions(exercise).lower(), exercise.id


# --- 4: press-ups ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", PRESS_UPS)
def test_press_ups_say_who_should_ask_first(exercise_id: str) -> None:
    exercise = CATALOGUE[exercise_id]
    assert exercise.pattern == "extension" and exercise.position == "prone"
    text = instructions(exercise).lower()
    assert "disc" not in words(text) and "often used" not in text
    cautions = " ".join(exercise.cautions).lower()
    for who in ("stenosis", "spondylolisthesis", "pregnan", "surgery"):
        assert who in cautions, who


def test_only_the_forearm_version_is_gentle() -> None:
    assert CATALOGUE["prone-press-up"].intensity == "moderate"
    elbows = CATALOGUE["prone-on-elbows"]
    assert elbows.intensity == "gentle" and "002" in elbows.sources
    assert "forearms" in " ".join(elbows.steps).lower()
    gentle_pool = {e.id for e in candidate_pool(CATALOGUE, PlanOptions(mode="gentle"))}
    assert "prone-on-elbows" in gentle_pool and "prone-press-up" not in gentle_pool
    gentle_days = routines(("gentle",), users=80)
    assert all("prone-press-up" not in ids for ids in gentle_days)
    assert any("prone-on-elbows" in ids for ids in gentle_days)


# --- 5, 6: hamstring, lunge and split stance ------------------------------------------------------------


def test_hamstring_stretch_keeps_the_foot_relaxed_and_warns_of_tingling() -> None:
    hamstring = CATALOGUE["hamstring-lying"]
    moves = " ".join((*hamstring.steps, *hamstring.cues)).lower()
    assert "toes" not in moves and "pull your toes" not in moves
    assert "tingling" in " ".join(hamstring.cautions).lower()
    assert hamstring.card_caution is not None and "tingling" in hamstring.card_caution.lower()


def test_kneeling_lunge_keeps_the_lower_back_from_arching() -> None:
    lunge = CATALOGUE["kneeling-lunge"]
    assert "arch" in " ".join(lunge.cautions).lower()
    assert "arch" in " ".join(lunge.cues).lower()
    assert lunge.card_caution is not None and "arch" in lunge.card_caution.lower()


def test_split_stance_says_what_it_really_stretches() -> None:
    split = CATALOGUE["standing-hip-stretch"]
    targets = " ".join(split.targets)
    assert "calf" in targets and "front of the" in targets and "outer hip" not in targets
    feel = split.feel.lower()
    assert "calf" in feel and "front of that hip" in feel and "outer hip" not in feel
    steps = " ".join(split.steps).lower()
    assert "heel" in steps and "hips under" in steps
    assert "outer hip stretch" not in split.aliases


# --- 7: cat-cow, directions and plain names -------------------------------------------------------------


def test_cat_cow_breathes_in_into_the_arch_and_out_as_it_rounds() -> None:
    cat_cow = CATALOGUE["cat-cow"]
    arch = next(s.lower() for s in cat_cow.steps if "arch" in s.lower())
    round_ = next(s.lower() for s in cat_cow.steps if "round" in s.lower())
    assert arch.startswith("breathe in") and "breathe out" not in arch
    assert round_.startswith("breathe out") and "breathe in" not in round_
    assert cat_cow.steps.index(next(s for s in cat_cow.steps if "arch" in s.lower())) == 0
    cues = " ".join(cat_cow.cues).lower()
    assert "breathe in as you arch" in cues and "breathe out as you round" in cues
    assert cat_cow.directions == {"extension", "flexion"}


def test_directions_cover_more_than_the_pattern_where_needed() -> None:
    assert CATALOGUE["knee-rolls"].directions == {"rotation", "flexion"}
    assert CATALOGUE["abdominal-brace-reach"].directions == {"flexion"}
    for exercise in CATALOGUE:
        if exercise.pattern in ("flexion", "extension", "rotation"):
            assert exercise.pattern in exercise.directions, exercise.id


def test_names_are_plain() -> None:
    jargon = {"lumbar", "prone", "supine", "flexion", "extension", "transverse", "abdominis"}
    for exercise in CATALOGUE:
        assert "(lumbar" not in exercise.name.lower(), exercise.name
        assert "(" not in exercise.name, exercise.name
        assert not jargon & set(words(exercise.name)), exercise.name
    assert CATALOGUE["prone-press-up"].name == "Press-up on your front"


def test_no_rep_in_user_facing_text() -> None:
    for exercise in CATALOGUE:
        found = {"rep", "reps"} & set(words(instructions(exercise)))
        assert not found, exercise.id
    for guidance in CATALOGUE.guidance:
        text = f"{guidance.title} {guidance.text} {guidance.tip or ''}"
        assert not {"rep", "reps"} & set(words(text)), guidance.id


# --- 8: the session card's caution ----------------------------------------------------------------------


def test_card_cautions_are_short_single_lines() -> None:
    for exercise in CATALOGUE:
        if exercise.card_caution is not None:
            assert 0 < len(exercise.card_caution) <= 90, exercise.id
            assert "\n" not in exercise.card_caution, exercise.id


def test_most_guided_exercises_have_a_card_caution() -> None:
    with_line = [e.id for e in ROUTINE if e.card_caution]
    assert len(with_line) * 4 >= len(ROUTINE) * 3
    must = {"piriformis", "hamstring-lying", "kneeling-lunge", "cat-cow", *PRESS_UPS, *FORWARD_BENDING}
    assert must <= set(with_line), must - set(with_line)


# --- 9: general advice ----------------------------------------------------------------------------------


def test_the_general_advice_covers_slowness_pain_and_getting_help() -> None:
    by_id = {g.id: g for g in CATALOGUE.guidance}
    slow = f"{by_id['slow-no-bouncing'].title} {by_id['slow-no-bouncing'].text}".lower()
    assert "slowly" in slow and "bounce" in slow
    pain = f"{by_id['never-into-pain'].title} {by_id['never-into-pain'].text}".lower()
    assert "into pain" in pain and "sharp pain" in pain and "stop" in pain
    help_ = by_id["severe-or-lasting-pain"]
    text = f"{help_.title} {help_.text}".lower()
    assert "get help" in text and "gp" in words(text) and "physiotherapist" in text
    assert "few weeks" in text and "severe" in text and "/safety" in text


def test_guidance_tips_are_short() -> None:
    tips = [g.tip for g in CATALOGUE.guidance if g.tip]
    assert len(tips) * 3 >= len(CATALOGUE.guidance) * 2
    assert all(len(tip) <= 100 and "\n" not in tip for tip in tips)
