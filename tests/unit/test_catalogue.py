"""The catalogue loader and validator: a bad entry is reported with the file, the entry and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from content.catalogue import DEFAULT_PATH, CatalogueError, load_catalogue, parse_catalogue

CATALOGUE = load_catalogue()


def test_the_real_catalogue_loads_and_can_make_balanced_routines() -> None:
    patterns = {e.pattern for e in CATALOGUE.routine_exercises}
    assert {"flexion", "extension", "rotation", "hip", "core"} <= patterns
    gentle = [e for e in CATALOGUE.routine_exercises if e.intensity == "gentle" and e.kind != "strength"]
    assert len(gentle) >= 5
    assert CATALOGUE.get("piriformis") is CATALOGUE["piriformis"] and CATALOGUE.get("nope") is None


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
