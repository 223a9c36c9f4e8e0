"""The catalogue data: valid, complete against the source articles, and written in our own words."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from content.catalogue import DEFAULT_PATH, CatalogueError, load_catalogue, parse_catalogue

CATALOGUE = load_catalogue()
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_EXERCISES = [
    "back-flexion", "knee-to-chest", "knee-to-chest-single", "knee-to-chest-kicks", "piriformis", "kneeling-lunge",
    "hamstring-lying", "buttock-stretch", "lying-knee-twist", "leg-twists", "knee-rolls", "seated-spinal-twist",
    "prone-press-up", "childs-pose", "cat-cow", "bridging", "bird-dog", "abdominal-brace-reach", "glute-kickback",
    "side-lying-hip-raise", "standing-hip-stretch", "walking", "swimming", "cycling",
]  # fmt: skip


def test_every_seed_exercise_is_in_the_catalogue() -> None:
    ids = {e.id for e in CATALOGUE}
    assert set(SEED_EXERCISES) <= ids
    assert len(CATALOGUE) >= 20


def test_every_entry_is_complete() -> None:
    for e in CATALOGUE:
        assert e.steps and e.cues and e.cautions and e.start and e.feel, e.id
        assert all(len(cue) <= 60 for cue in e.cues), e.id
        if e.is_cardio:
            assert e.dose.minutes is not None and e.dose.sessions_per_week is not None
        else:
            assert e.dose.reps is not None


def test_articles_doses_carry_over() -> None:
    flexion = CATALOGUE["back-flexion"].dose
    assert flexion.hold_seconds is not None and flexion.reps is not None
    assert (flexion.hold_seconds.low, flexion.hold_seconds.high, flexion.reps.low, flexion.reps.high) == (
        5,
        10,
        4,
        6,
    )
    assert CATALOGUE["piriformis"].dose.sides == "each"
    walking = CATALOGUE["walking"].dose
    assert walking.minutes is not None and (walking.minutes.low, walking.minutes.high) == (20, 30)
    assert CATALOGUE["side-lying-hip-raise"].dose.reps is not None
    assert CATALOGUE["side-lying-hip-raise"].dose.reps.high == 8


def test_the_routine_can_be_balanced() -> None:
    patterns = {e.pattern for e in CATALOGUE.routine_exercises}
    assert {"flexion", "extension", "rotation", "hip", "core"} <= patterns
    gentle = [e for e in CATALOGUE.routine_exercises if e.intensity == "gentle" and e.kind != "strength"]
    assert len(gentle) >= 5


def test_guidance_from_the_articles_is_there() -> None:
    text = " ".join(g.text.lower() for g in CATALOGUE.guidance)
    for fact in ("physiotherapist", "sharp pain", "bouncing", "20 to 30 seconds", "cold pack", "warm pack"):
        assert fact in text


def _sentences(text: str) -> list[list[str]]:
    return [re.findall(r"[a-z']+", s.lower()) for s in re.split(r"[.!?\n]", text)]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source articles are not beside the project")
def test_no_eight_words_in_a_row_copied_from_the_articles() -> None:
    seed_runs: set[tuple[str, ...]] = set()
    for path in SEEDS.glob("*.txt"):
        for words in _sentences(path.read_text(encoding="utf-8", errors="ignore")):
            seed_runs.update(tuple(words[i : i + 8]) for i in range(len(words) - 7))
    ours = DEFAULT_PATH.read_text(encoding="utf-8")
    copied = [
        " ".join(words[i : i + 8])
        for words in _sentences(ours)
        for i in range(len(words) - 7)
        if tuple(words[i : i + 8]) in seed_runs
    ]
    assert not copied


def data() -> dict:  # type: ignore[type-arg]
    with DEFAULT_PATH.open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["exercise"][0].update(kind="yoga"), "exercise 'back-flexion': field 'kind'"),
        (lambda d: d["exercise"][1].update(id="back-flexion"), "field 'id': 'back-flexion' is already used"),
        (lambda d: d["exercise"][0].pop("steps"), "exercise 'back-flexion': field 'steps'"),
        (lambda d: d["exercise"][0].update(colour="red"), "field 'colour': unknown field"),
        (lambda d: d["exercise"][0]["dose"].update(reps=[6, 4]), "back-flexion' dose: field 'reps'"),
        (lambda d: d["exercise"][0].update(cues=["x" * 61]), "field 'cues'"),
        (
            lambda d: d["exercise"][2].update(aliases=["knees to chest"]),
            "is already used by exercise 'knee-to-chest'",
        ),
    ],
)
def test_a_bad_entry_is_reported_with_file_entry_and_field(change, message: str) -> None:  # type: ignore[no-untyped-def]
    broken = data()
    change(broken)
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(broken)
    assert "exercises.toml" in str(exc.value) and message in str(exc.value)


def test_a_file_that_is_not_toml_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "exercises.toml"
    bad.write_text("[[exercise]\nid = ")
    with pytest.raises(CatalogueError, match="not valid TOML"):
        load_catalogue(bad)
