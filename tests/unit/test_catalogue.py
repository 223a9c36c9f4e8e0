"""The catalogue loader and validator: a bad entry is reported with the file, the entry and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from content.catalogue import DEFAULT_PATH, CatalogueError, Guidance, load_catalogue, parse_catalogue

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
        (lambda d: d["exercise"][0].update(card_caution="x" * 91), "field 'card_caution'"),
        (lambda d: d["exercise"][0].update(directions=["sideways"]), "field 'directions'"),
        (
            lambda d: d["guidance"][0].update(tip="x" * 101),
            "guidance 'check-with-a-professional': field 'tip'",
        ),
        (lambda d: d["guidance"][0].update(hint="x"), "field 'hint': unknown field"),
        (
            lambda d: d["retired"][0].update(replaced_by="nope"),
            "retired 'buttock-stretch': field 'replaced_by'",
        ),
        (lambda d: d["retired"][0].update(id="piriformis"), "'piriformis' is still a live exercise id"),
        (lambda d: d["retired"].append(dict(d["retired"][0])), "'buttock-stretch' is retired twice"),
        (lambda d: d["retired"][0].update(id="Old Id"), "retired 'Old Id': field 'id'"),
        (lambda d: d["retired"][0].update(colour="red"), "field 'colour': unknown field"),
        (
            lambda d: d["retired"][0].update(id="press-up", replaced_by="piriformis"),
            "'press-up' names exercise 'prone-press-up', not 'piriformis'",
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


def test_a_retired_id_resolves_to_its_replacement() -> None:
    """Old sessions and settings say "buttock-stretch": it now means the piriformis stretch."""
    piriformis = CATALOGUE["piriformis"]
    assert CATALOGUE.retired == {"buttock-stretch": "piriformis"}
    assert CATALOGUE.get("buttock-stretch") is piriformis
    assert CATALOGUE["buttock-stretch"] is piriformis
    assert CATALOGUE.canonical_id("buttock-stretch") == "piriformis"
    assert CATALOGUE.canonical_id("piriformis") == "piriformis"
    assert CATALOGUE.canonical_id("cat-cow") == "cat-cow"
    with pytest.raises(KeyError):
        CATALOGUE["no-such-exercise"]


def test_a_retired_id_is_not_listed() -> None:
    listed = [
        *(e.id for e in CATALOGUE),
        *(e.id for e in CATALOGUE.exercises),
        *(e.id for e in CATALOGUE.routine_exercises),
        *CATALOGUE.by_id,
    ]
    assert "buttock-stretch" not in listed
    assert listed.count("piriformis") == 4
    assert len(CATALOGUE) == len(CATALOGUE.exercises) == len(CATALOGUE.by_id)


def test_the_retired_table_is_optional() -> None:
    plain = data()
    del plain["retired"]
    catalogue = parse_catalogue(plain)
    assert catalogue.retired == {} and catalogue.get("buttock-stretch") is None


def test_guidance_tips_are_parsed_and_optional() -> None:
    assert all(isinstance(g, Guidance) for g in CATALOGUE.guidance)
    tips = [g.tip for g in CATALOGUE.guidance if g.tip is not None]
    assert len(tips) * 3 >= len(CATALOGUE.guidance) * 2
    assert all(0 < len(tip) <= 100 for tip in tips)
    bare = data()
    bare["guidance"][0].pop("tip", None)
    assert parse_catalogue(bare).guidance[0].tip is None


def test_directions_default_to_the_pattern_and_can_be_set() -> None:
    assert CATALOGUE["knee-to-chest"].directions == {"flexion"}
    assert CATALOGUE["piriformis"].directions == frozenset()
    assert CATALOGUE["cat-cow"].directions == {"extension", "flexion"}
