"""Forgiving exercise lookup."""

from __future__ import annotations

import pytest

from content.catalogue import load_catalogue
from content.lookup import ExerciseIndex, normalize

INDEX = ExerciseIndex(load_catalogue())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("piriformis", "piriformis"),
        ("PIRIFORMIS", "piriformis"),
        ("piriformus", "piriformis"),
        ("piriformis stretch", "piriformis"),
        ("knee to chest", "knee-to-chest"),
        ("knee-to-chest-single", "knee-to-chest-single"),
        ("cat cow", "cat-cow"),
        ("cat/cow", "cat-cow"),
        ("childs pose", "childs-pose"),
        ("child's pose", "childs-pose"),
        ("Child’s Pose", "childs-pose"),
        ("bird dog", "bird-dog"),
        ("birddog", "bird-dog"),
        ("bridge", "bridging"),
        ("hamstrng", "hamstring-lying"),
    ],
)
def test_finds_forgivingly(query: str, expected: str) -> None:
    found = INDEX.find(query)
    assert found.exercise is not None, (query, [e.id for e in found.suggestions])
    assert found.exercise.id == expected


def test_unknown_name_suggests_up_to_three() -> None:
    found = INDEX.find("knee")
    assert found.exercise is None
    assert 1 <= len(found.suggestions) <= 3
    assert all("knee" in e.name.lower() or "knee" in e.id for e in found.suggestions)


def test_nonsense_finds_nothing() -> None:
    found = INDEX.find("xyzzy quux")
    assert found.exercise is None and len(found.suggestions) <= 3
    assert INDEX.find("   ").exercise is None


def test_normalize() -> None:
    assert normalize("  Child’s   Pose! ") == "childs pose"
    assert normalize("Cat/Cow") == "cat cow"
