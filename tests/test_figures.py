"""Issue 13: every exercise has poses, every pose is possible, every picture renders, small and stable."""

from __future__ import annotations

import copy
import hashlib
import io
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from content import figures
from content.catalogue import load_catalogue
from content.figures import MAX_GIF_BYTES, MAX_PNG_BYTES, Picture, cached_image, image_key, render
from content.poses import DEFAULT_PATH, ExerciseFigure, PoseError, load_poses, parse_poses

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = load_catalogue()
IDS = [e.id for e in CATALOGUE]


def raw_poses() -> dict[str, Any]:
    with DEFAULT_PATH.open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="module")
def pictures() -> dict[str, Picture]:
    """Each exercise rendered once for the whole module."""
    return {exercise_id: render(figure) for exercise_id, figure in figures.figures().items()}


def test_every_catalogue_exercise_has_poses_and_no_pose_is_orphaned() -> None:
    loaded = load_poses(exercise_ids=IDS)
    assert sorted(loaded) == sorted(IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_exercise_renders_a_valid_small_image(pictures: dict[str, Picture], exercise_id: str) -> None:
    picture = pictures[exercise_id]
    image = Image.open(io.BytesIO(picture.data))
    if picture.kind == "png":
        assert picture.data.startswith(b"\x89PNG\r\n\x1a\n")
        assert image.format == "PNG" and len(picture.data) < MAX_PNG_BYTES
    else:
        assert picture.data.startswith(b"GIF89a")
        assert image.format == "GIF" and len(picture.data) < MAX_GIF_BYTES
        assert getattr(image, "n_frames", 1) > 4 and image.info.get("loop") == 0
    width, height = image.size
    assert 300 <= width <= 1280 and 250 <= height <= 1280  # readable on a phone, a sane upload
    assert b"Software" not in picture.data and b"matplotlib" not in picture.data.lower()


def test_movements_are_animated_and_positions_are_panels() -> None:
    loaded = figures.figures()
    for exercise_id in ("cat-cow", "knee-rolls", "bridging"):
        assert loaded[exercise_id].motion == "gif"
    assert loaded["knee-to-chest"].motion == "panels"


def test_rendering_is_deterministic_within_and_across_processes(pictures: dict[str, Picture]) -> None:
    chosen = ("cat-cow", "knee-to-chest", "seated-spinal-twist")
    for exercise_id in chosen:
        assert render(figures.figures()[exercise_id]).data == pictures[exercise_id].data
    code = (
        "import hashlib; from content import figures\n"
        f"for i in {chosen!r}: print(hashlib.sha256(figures.render(figures.figures()[i]).data).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    expected = [hashlib.sha256(pictures[i].data).hexdigest() for i in chosen]
    assert out.stdout.split() == expected


def test_the_cache_renders_once_and_follows_the_pose_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, key, kind = cached_image("knee-to-chest", tmp_path)
    assert path.is_file() and kind == "png" and key in path.name
    monkeypatch.setattr(figures, "render", lambda figure: pytest.fail("rendered a cached picture again"))
    assert cached_image("knee-to-chest", tmp_path) == (path, key, kind)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary files left behind"

    data = raw_poses()
    changed = copy.deepcopy(data)
    changed["knee-to-chest"]["end"]["knee"] = 120
    before = parse_poses(data)["knee-to-chest"]
    after = parse_poses(changed)["knee-to-chest"]
    assert image_key(before) == key and image_key(after) != key
    monkeypatch.setattr(figures, "RENDERER_VERSION", "test")
    assert image_key(before) != key


def _with(exercise_id: str, pose: str, **changes: Any) -> dict[str, Any]:
    data = raw_poses()
    data[exercise_id][pose].update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"knee": 200}, "knee'.*outside what a body can do"),
        ({"hip": -80}, "hip'.*outside"),
        ({"y": -0.2}, "below the floor"),
        ({"near_reach": [3.0, 3.0]}, "cannot reach"),
        ({"near_knee": "bent"}, "must be a number"),
        ({"wrist": 10}, "unknown field"),
    ],
)
def test_the_validator_rejects_impossible_poses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PoseError, match=message):
        parse_poses(_with("knee-to-chest", "end", **changes))


def test_the_validator_rejects_a_hyperextended_elbow() -> None:
    with pytest.raises(PoseError, match=r"near_elbow'.*outside what a body can do"):
        parse_poses(_with("knee-to-chest", "start", near_elbow=-15))


def test_the_validator_checks_the_floor_contacts() -> None:
    with pytest.raises(PoseError, match="near_ankle should rest on the floor"):
        parse_poses(_with("knee-to-chest", "start", hip=60))


def test_the_validator_rejects_missing_and_orphaned_poses() -> None:
    data = raw_poses()
    del data["knee-to-chest"]["end"]
    with pytest.raises(PoseError, match="'knee-to-chest': field 'end': is missing"):
        parse_poses(data)
    data = raw_poses()
    del data["cat-cow"]
    with pytest.raises(PoseError, match="exercise 'cat-cow' has no poses"):
        parse_poses(data, IDS)
    data = raw_poses()
    data["headstand"] = data["bridging"]
    with pytest.raises(PoseError, match="'headstand': no exercise in the catalogue"):
        parse_poses(data, IDS)


def test_every_pose_has_both_key_poses_and_valid_frames() -> None:
    for figure in figures.figures().values():
        assert isinstance(figure, ExerciseFigure)
        assert {"start", "end"} <= set(figure.poses)
        assert all(name in figure.poses for name in figure.frames)


def test_the_contact_sheet_command(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.png"
    figures.main(["--sheet", str(sheet), "--only", "cat-cow", "knee-to-chest"])
    image = Image.open(sheet)
    assert image.format == "PNG" and image.width > 500
