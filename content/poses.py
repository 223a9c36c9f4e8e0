"""Exercise poses: data in ``poses.toml``, checked strictly, turned into 2D stick figures.

Each catalogue exercise has one table with a ``start`` and an ``end`` pose (more poses may follow for
an animation). A pose is a handful of joint angles in degrees; forward kinematics turns it into
points and limb segments that ``content.figures`` draws.

Three views:

``side``
    The body seen from its side, facing +x when standing. ``torso`` is the absolute direction from the
    hip joint to the shoulders (90 = upright, 180 = lying with the head to the left); every other angle
    is a joint angle relative to its parent, positive for flexion: ``hip``, ``shoulder`` (0 = limb along
    the body), ``knee`` and ``elbow`` (0 = straight), ``ankle`` (0 = foot at a right angle to the shin,
    negative = pointed), ``neck`` (positive = chin to chest), ``spine`` (positive = back rounded, negative =
    arched). ``hip = 80`` sets both legs; ``near_hip`` / ``far_hip`` set one. ``near_reach`` /
    ``far_reach`` put a hand on a point (``"near_knee"``, ``"far_thigh:0.6"`` or ``[x, y]``) and work out
    that arm's angles. ``x`` places the hip (or the ``anchor`` point); ``y`` is worked out so the body
    rests on the floor unless it is given (a chair, a bike).
``front`` and ``top``
    The body seen from the front or from above. Angles are absolute directions in the picture:
    ``torso`` from the pelvis to the neck, ``left_arm = [upper arm, forearm]``, ``right_leg = [thigh,
    shin]``, with optional foreshortening ``left_leg_scale = [0.6, 1.0]``, ``neck`` (head tilt relative to
    the torso), ``nose`` (the direction the face points) and ``left_reach`` like the side view.

Props: ``mat``, ``chair``, ``wall``, ``water``, ``bike`` (tables with their own parameters). ``works``
names the limbs drawn in the accent colour (the side that works); ``arrows`` follow a point from the
start pose to the end pose.

This module is pure: no matplotlib, no Telegram, no database.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

DEFAULT_PATH = Path(__file__).with_name("poses.toml")

View = Literal["side", "front", "top"]
Motion = Literal["panels", "gif"]
Point = tuple[float, float]

# --- body measurements (standing height ≈ 1) -----------------------------------------------------

TORSO = 0.30
NECK = 0.04
HEAD_R = 0.066
UPPER_ARM = 0.165
FOREARM = 0.165
THIGH = 0.245
SHIN = 0.235
FOOT = 0.085
LIMB_W = 0.054
TORSO_W = 0.105
TRUNK_W = 0.15
"""The trunk seen from the front or above is wider than from the side."""
SHOULDER_SPAN = 0.20
HIP_SPAN = 0.11
FLOOR = 0.0
TOLERANCE = 0.004

# --- joint limits (degrees) -----------------------------------------------------------------------

LIMITS: dict[str, tuple[float, float]] = {
    "torso": (-360.0, 360.0),
    "spine": (-30.0, 45.0),
    "neck": (-60.0, 70.0),
    "shoulder": (-70.0, 185.0),
    "elbow": (0.0, 150.0),
    "hip": (-35.0, 155.0),
    "knee": (0.0, 160.0),
    "ankle": (-65.0, 35.0),
}
"""Side view: flexion is positive. Elbows and knees never bend backwards (no hyperextension)."""

FRONT_BEND_MAX = 165.0
"""Front and top views: the most a forearm or shin may turn away from its upper arm or thigh."""
FRONT_NECK_MAX = 75.0
SCALE_RANGE = (0.2, 1.0)

SIDE_JOINTS = ("shoulder", "elbow", "hip", "knee", "ankle")
FRONT_LIMBS = ("left_arm", "right_arm", "left_leg", "right_leg")
PROP_KINDS = ("mat", "chair", "wall", "water", "bike")
SIDE_GROUPS = ("near_arm", "far_arm", "near_leg", "far_leg", "torso", "head")
FRONT_GROUPS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")


class PoseError(ValueError):
    """A pose table is invalid or impossible; the message names the file, the exercise and the field."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One drawn piece of the body: a thick round-capped line (or curve) through ``points``."""

    name: str
    group: str
    points: tuple[Point, ...]
    width: float
    layer: int
    """0 = far side (drawn first, lighter), 1 = trunk, 2 = near side."""


@dataclass(frozen=True, slots=True)
class Skeleton:
    """A posed body: named points and the segments to draw."""

    points: Mapping[str, Point]
    segments: tuple[Segment, ...]
    head: Point
    head_radius: float
    nose: Point | None
    angles: Mapping[str, float]
    """The joint angles actually used (after reaching), for validation and interpolation."""

    def lowest(self) -> float:
        """The lowest y of any part of the body, thickness included."""
        low = self.head[1] - self.head_radius
        for segment in self.segments:
            for _, y in segment.points:
                low = min(low, y - segment.width / 2)
        return low

    def bounds(self) -> tuple[float, float, float, float]:
        xs: list[float] = [self.head[0] - self.head_radius, self.head[0] + self.head_radius]
        ys: list[float] = [self.head[1] - self.head_radius, self.head[1] + self.head_radius]
        for segment in self.segments:
            for x, y in segment.points:
                xs += [x - segment.width / 2, x + segment.width / 2]
                ys += [y - segment.width / 2, y + segment.width / 2]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True, slots=True)
class Arrow:
    """An arrow following ``point`` from the start pose to the end pose (or between two fixed points)."""

    point: str | None
    start: Point | None
    end: Point | None
    bend: float
    offset: Point
    shorten: float


@dataclass(frozen=True, slots=True)
class Prop:
    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ExerciseFigure:
    """Everything needed to draw one exercise."""

    id: str
    view: View
    motion: Motion
    poses: Mapping[str, Mapping[str, Any]]
    frames: tuple[str, ...]
    props: tuple[Prop, ...]
    works: frozenset[str]
    arrows: tuple[Arrow, ...]
    anchor: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    turned: frozenset[str] = frozenset()
    """Side-view limbs turned out of the picture plane (a leg crossed in a figure four): their joints bend
    the other way in the drawing, so only the size of the bend is checked."""

    @property
    def digest(self) -> str:
        """A stable hash of this exercise's pose data (the image cache key combines it with the renderer)."""
        blob = json.dumps(self.raw, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def skeleton(self, name: str) -> Skeleton:
        return pose_skeleton(self, self.poses[name])


# --- geometry ---------------------------------------------------------------------------------------


def _direction(degrees: float) -> Point:
    radians = math.radians(degrees)
    return math.cos(radians), math.sin(radians)


def _step(origin: Point, degrees: float, length: float) -> Point:
    dx, dy = _direction(degrees)
    return origin[0] + dx * length, origin[1] + dy * length


def _angle_of(a: Point, b: Point) -> float:
    return math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))


def _wrap(degrees: float) -> float:
    """The angle in (-180, 180]."""
    degrees = math.fmod(degrees, 360.0)
    if degrees <= -180.0:
        degrees += 360.0
    elif degrees > 180.0:
        degrees -= 360.0
    return degrees


def _bezier(p0: Point, control: Point, p1: Point, steps: int = 12) -> tuple[Point, ...]:
    out = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * control[0] + c * p1[0], a * p0[1] + b * control[1] + c * p1[1]))
    return tuple(out)


def _two_link(
    root: Point, target: Point, first: float, second: float, bend: int
) -> tuple[float, float, bool]:
    """Absolute directions of two links from ``root`` reaching ``target``.

    ``bend`` +1 turns the second link counter-clockwise from the first. Returns (first, second,
    reached)."""
    dx, dy = target[0] - root[0], target[1] - root[1]
    distance = math.hypot(dx, dy)
    toward = math.degrees(math.atan2(dy, dx))
    if distance >= first + second:
        return toward, toward, distance <= first + second + TOLERANCE
    distance = max(distance, abs(first - second) + 1e-9)
    cos_inner = (first**2 + distance**2 - second**2) / (2 * first * distance)
    inner = math.degrees(math.acos(max(-1.0, min(1.0, cos_inner))))
    upper = toward - bend * inner
    elbow = _step(root, upper, first)
    lower = _angle_of(elbow, target)
    return upper, lower, True


# --- side view ----------------------------------------------------------------------------------------


def _side_value(pose: Mapping[str, Any], side: str, joint: str, default: float = 0.0) -> float:
    value = pose.get(f"{side}_{joint}", pose.get(joint, default))
    return float(value)


def _side_skeleton(
    pose: Mapping[str, Any], origin: Point, scales: Mapping[str, float], turned: frozenset[str] = frozenset()
) -> Skeleton:
    torso = float(pose.get("torso", 90.0))
    spine = float(pose.get("spine", 0.0))
    hip = origin
    shoulder = _step(hip, torso, TORSO)
    front = torso - 90.0
    # The back bulges away from the front when rounded (flexion), towards it when arched.
    offset = (TORSO / 2) * math.tan(math.radians(spine))
    middle = ((hip[0] + shoulder[0]) / 2, (hip[1] + shoulder[1]) / 2)
    control = _step(middle, front + 180.0, offset)
    spine_points = _bezier(hip, control, shoulder)
    # The pelvis and the chest follow the ends of the curved spine: hips and shoulders bend from there.
    pelvis_line, chest_line = torso + spine, torso - spine
    head_direction = chest_line - float(pose.get("neck", 0.0))
    neck_top = _step(shoulder, head_direction, NECK)
    head = _step(neck_top, head_direction, HEAD_R * 0.85)

    points: dict[str, Point] = {"hip": hip, "shoulder": shoulder, "neck": neck_top, "head": head}
    angles: dict[str, float] = {"torso": torso, "spine": spine, "neck": float(pose.get("neck", 0.0))}
    segments: list[Segment] = [
        Segment("torso", "torso", spine_points, TORSO_W, 1),
        Segment("neck", "head", (shoulder, neck_top), LIMB_W, 1),
    ]
    for side in ("far", "near"):
        layer = 0 if side == "far" else 2
        # legs
        thigh_len = THIGH * scales.get(f"{side}_thigh", 1.0)
        shin_len = SHIN * scales.get(f"{side}_shin", 1.0)
        leg_reach = pose.get(f"{side}_leg_reach")
        if leg_reach is not None:
            target = resolve_target(leg_reach, points)
            # the knee bends so that the shin turns clockwise from the thigh (the other way when the leg is
            # turned out of the picture, as in a figure four)
            bend = +1 if f"{side}_leg" in turned else -1
            thigh_dir, shin_dir, _ = _two_link(hip, target, thigh_len, shin_len, bend)
            hip_angle = _wrap(thigh_dir - (pelvis_line + 180.0))
            knee_angle = _wrap(thigh_dir - shin_dir)
        else:
            hip_angle = _side_value(pose, side, "hip")
            thigh_dir = pelvis_line + 180.0 + hip_angle
            knee_angle = _side_value(pose, side, "knee")
            shin_dir = thigh_dir - knee_angle
        knee = _step(hip, thigh_dir, thigh_len)
        ankle = _step(knee, shin_dir, shin_len)
        foot = pose.get(f"{side}_foot", pose.get("foot"))
        if foot is not None:  # an absolute direction (0 = flat, toes forward)
            ankle_angle = _wrap(float(foot) - shin_dir - 90.0)
        else:
            ankle_angle = _side_value(pose, side, "ankle")
        toe = _step(ankle, shin_dir + 90.0 + ankle_angle, FOOT * scales.get(f"{side}_foot", 1.0))
        points |= {f"{side}_knee": knee, f"{side}_ankle": ankle, f"{side}_toe": toe}
        angles |= {f"{side}_hip": hip_angle, f"{side}_knee": knee_angle, f"{side}_ankle": ankle_angle}
        segments += [
            Segment(f"{side}_thigh", f"{side}_leg", (hip, knee), LIMB_W, layer),
            Segment(f"{side}_shin", f"{side}_leg", (knee, ankle), LIMB_W, layer),
            Segment(f"{side}_foot", f"{side}_leg", (ankle, toe), LIMB_W * 0.85, layer),
        ]
        points[f"{side}_thigh_start"] = hip
    for side in ("far", "near"):
        layer = 0 if side == "far" else 2
        upper_len = UPPER_ARM * scales.get(f"{side}_upper_arm", 1.0)
        lower_len = FOREARM * scales.get(f"{side}_forearm", 1.0)
        reach = pose.get(f"{side}_reach")
        if reach is not None:
            target = resolve_target(reach, points)
            # the elbow bends so that the forearm turns counter-clockwise from the upper arm
            upper_dir, lower_dir, _ = _two_link(shoulder, target, upper_len, lower_len, +1)
            shoulder_angle = _wrap(upper_dir - (chest_line + 180.0))
            elbow_angle = _wrap(lower_dir - upper_dir)
        else:
            shoulder_angle = _side_value(pose, side, "shoulder")
            elbow_angle = _side_value(pose, side, "elbow")
            upper_dir = chest_line + 180.0 + shoulder_angle
            lower_dir = upper_dir + elbow_angle
        elbow = _step(shoulder, upper_dir, upper_len)
        hand = _step(elbow, lower_dir, lower_len)
        points |= {f"{side}_elbow": elbow, f"{side}_hand": hand}
        angles |= {f"{side}_shoulder": shoulder_angle, f"{side}_elbow": elbow_angle}
        segments += [
            Segment(f"{side}_upper_arm", f"{side}_arm", (shoulder, elbow), LIMB_W, layer),
            Segment(f"{side}_forearm", f"{side}_arm", (elbow, hand), LIMB_W, layer),
        ]
    return Skeleton(points, tuple(segments), head, HEAD_R, None, angles)


# --- front and top views ----------------------------------------------------------------------------


def _front_skeleton(
    pose: Mapping[str, Any], origin: Point, scales: Mapping[str, float], turned: frozenset[str] = frozenset()
) -> Skeleton:
    torso = float(pose.get("torso", 90.0))
    pelvis = origin
    neck_base = _step(pelvis, torso, TORSO * float(pose.get("torso_scale", 1.0)))
    head_direction = torso + float(pose.get("neck", 0.0))
    head = _step(neck_base, head_direction, NECK + HEAD_R * 0.9)
    nose_direction = pose.get("nose")
    nose = None if nose_direction is None else _step(head, float(nose_direction), HEAD_R)
    shoulder_half = SHOULDER_SPAN / 2 * float(pose.get("shoulder_scale", 1.0))
    hip_half = HIP_SPAN / 2 * float(pose.get("hip_scale", 1.0))
    # The person's left is clockwise from the torso direction (they face the viewer or the sky).
    shoulder_line = torso + float(pose.get("shoulder_turn", 0.0))
    shoulder_mid = _step(neck_base, torso + 180.0, 0.03)
    points: dict[str, Point] = {
        "pelvis": pelvis,
        "neck": neck_base,
        "head": head,
        "left_shoulder": _step(shoulder_mid, shoulder_line - 90.0, shoulder_half),
        "right_shoulder": _step(shoulder_mid, shoulder_line + 90.0, shoulder_half),
        "left_hip": _step(pelvis, torso - 90.0, hip_half),
        "right_hip": _step(pelvis, torso + 90.0, hip_half),
    }
    angles: dict[str, float] = {"torso": torso, "neck": float(pose.get("neck", 0.0))}
    segments: list[Segment] = [
        Segment("trunk", "torso", (pelvis, _step(neck_base, torso + 180.0, 0.05)), TRUNK_W, 1),
        Segment("shoulders", "torso", (points["left_shoulder"], points["right_shoulder"]), LIMB_W, 1),
        Segment("pelvis", "torso", (points["left_hip"], points["right_hip"]), LIMB_W * 1.4, 1),
        Segment("neck", "head", (neck_base, _step(neck_base, head_direction, NECK)), LIMB_W, 1),
    ]
    layers = {name: int(pose.get(f"{name}_layer", 2)) for name in FRONT_LIMBS}
    for limb in ("left_leg", "right_leg", "left_arm", "right_arm"):
        side, kind = limb.split("_")
        root = points[f"{side}_{'shoulder' if kind == 'arm' else 'hip'}"]
        first, second = (UPPER_ARM, FOREARM) if kind == "arm" else (THIGH, SHIN)
        s1, s2 = scales.get(f"{limb}:0", 1.0), scales.get(f"{limb}:1", 1.0)
        reach = pose.get(f"{side}_reach") if kind == "arm" else None
        if reach is not None:
            target = resolve_target(reach, points)
            bend = int(pose.get(f"{side}_reach_bend", 1))
            a1, a2, _ = _two_link(root, target, first * s1, second * s2, bend)
        else:
            a1, a2 = (float(a) for a in pose.get(limb, (torso + 180.0, torso + 180.0)))
        middle = _step(root, a1, first * s1)
        end = _step(middle, a2, second * s2)
        joint, tip = ("elbow", "hand") if kind == "arm" else ("knee", "ankle")
        points |= {f"{side}_{joint}": middle, f"{side}_{tip}": end}
        angles |= {f"{limb}:0": a1, f"{limb}:1": a2}
        segments += [
            Segment(f"{limb}_upper", limb, (root, middle), LIMB_W, layers[limb]),
            Segment(f"{limb}_lower", limb, (middle, end), LIMB_W, layers[limb]),
        ]
        foot = pose.get(f"{side}_foot") if kind == "leg" else None
        if foot is not None:
            toe = _step(end, float(foot), FOOT * float(pose.get(f"{side}_foot_scale", 1.0)))
            points[f"{side}_toe"] = toe
            segments.append(Segment(f"{limb}_foot", limb, (end, toe), LIMB_W * 0.85, layers[limb]))
    return Skeleton(points, tuple(segments), head, HEAD_R, nose, angles)


def resolve_target(spec: Any, points: Mapping[str, Point]) -> Point:
    """A point named in the pose data: ``[x, y]``, ``"near_knee"`` or ``"near_thigh:0.6"``."""
    if isinstance(spec, list | tuple):
        return float(spec[0]), float(spec[1])
    name, _, fraction = str(spec).partition(":")
    if not fraction:
        return points[name]
    segment_ends = {
        "near_thigh": ("hip", "near_knee"), "far_thigh": ("hip", "far_knee"),
        "near_shin": ("near_knee", "near_ankle"), "far_shin": ("far_knee", "far_ankle"),
        "left_thigh": ("left_hip", "left_knee"), "right_thigh": ("right_hip", "right_knee"),
        "left_shin": ("left_knee", "left_ankle"), "right_shin": ("right_knee", "right_ankle"),
    }  # fmt: skip
    a, b = (points[p] for p in segment_ends[name])
    t = float(fraction)
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def pose_skeleton(figure: ExerciseFigure, pose: Mapping[str, Any]) -> Skeleton:
    """Forward kinematics for one pose of ``figure``, placed and rested on the floor."""
    build = _side_skeleton if figure.view == "side" else _front_skeleton
    scales = _scales(figure.view, pose)
    origin = (0.0, 0.0)
    skeleton = build(pose, origin, scales, figure.turned)
    for _ in range(6):  # a hand or foot may reach a fixed point: placing the body changes the pose a little
        anchor = skeleton.points.get(figure.anchor, origin)
        dx = float(pose.get("x", 0.0)) - anchor[0]
        if "y" in pose:
            dy = float(pose["y"]) - anchor[1]
        elif figure.view == "top":
            dy = -origin[1]
        else:
            dy = FLOOR - skeleton.lowest()
        if abs(dx) < 1e-7 and abs(dy) < 1e-7:
            break
        origin = (origin[0] + dx, origin[1] + dy)
        skeleton = build(pose, origin, scales, figure.turned)
    return skeleton


def _default_anchor(view: str) -> str:
    return "hip" if view == "side" else "pelvis"


def _scales(view: str, pose: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    if view == "side":
        for key, value in pose.get("scale", {}).items():
            out[key] = float(value)
    else:
        for limb in FRONT_LIMBS:
            pair = pose.get(f"{limb}_scale")
            if pair is not None:
                out[f"{limb}:0"], out[f"{limb}:1"] = float(pair[0]), float(pair[1])
    return out


def interpolate(a: Mapping[str, Any], b: Mapping[str, Any], t: float) -> dict[str, Any]:
    """A pose between ``a`` (t = 0) and ``b`` (t = 1): numbers and number pairs blend, angles the short way."""
    out: dict[str, Any] = {}
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, b.get(key)), b.get(key, a.get(key))
        if key in _ABSOLUTE_ANGLES and va is not None and vb is not None:
            # directions in the picture (front and top views): turn the short way round
            if isinstance(va, list | tuple):
                out[key] = [x + _wrap(y - x) * t for x, y in zip(va, vb, strict=True)]
            else:
                out[key] = va + _wrap(vb - va) * t
        else:
            out[key] = _blend(va, vb, t)
    return out


_ABSOLUTE_ANGLES = frozenset({*FRONT_LIMBS, "nose", "left_foot", "right_foot"})


def _blend(va: Any, vb: Any, t: float) -> Any:
    if isinstance(va, int | float) and isinstance(vb, int | float) and not isinstance(va, bool):
        return va + (vb - va) * t
    if isinstance(va, list | tuple) and isinstance(vb, list | tuple) and len(va) == len(vb):
        return [_blend(x, y, t) for x, y in zip(va, vb, strict=True)]
    if isinstance(va, dict) and isinstance(vb, dict):
        return {k: _blend(va.get(k, 1.0), vb.get(k, 1.0), t) for k in sorted(set(va) | set(vb))}
    return va if t < 0.5 else vb


def angles_only(figure: ExerciseFigure, pose: Mapping[str, Any]) -> dict[str, Any]:
    """The pose with every value explicit: shared joint values split into near and far, and every reach
    replaced by the arm angles it produced (so two poses can be interpolated key by key)."""
    skeleton = pose_skeleton(figure, pose)
    dropped = ("_reach", "_reach_bend", "foot") if figure.view == "side" else ("_reach", "_reach_bend")
    out = {k: v for k, v in pose.items() if not k.endswith(dropped) and k != "rest"}
    out.setdefault("x", 0.0)
    out.setdefault("torso", 90.0)
    out.setdefault("neck", 0.0)
    if figure.view == "side":
        out.setdefault("spine", 0.0)
        for joint in SIDE_JOINTS:
            out.pop(joint, None)
        for side in ("near", "far"):
            for joint in SIDE_JOINTS:
                out[f"{side}_{joint}"] = skeleton.angles[f"{side}_{joint}"]
    else:
        for limb in FRONT_LIMBS:
            out[limb] = [skeleton.angles[f"{limb}:0"], skeleton.angles[f"{limb}:1"]]
    return out


# --- loading and validation -------------------------------------------------------------------------

_TABLE_FIELDS = {"view", "motion", "props", "works", "arrows", "frames", "anchor", "note", "turned"}
_SIDE_FIELDS = {
    "x", "y", "torso", "spine", "neck", "scale", "rest",
    *SIDE_JOINTS, *(f"{s}_{j}" for s in ("near", "far") for j in SIDE_JOINTS), "near_reach", "far_reach",
    "near_leg_reach", "far_leg_reach", "foot", "near_foot", "far_foot",
}  # fmt: skip
_FRONT_FIELDS = {
    "x", "y", "torso", "torso_scale", "neck", "nose", "shoulder_scale", "hip_scale", "shoulder_turn", "rest",
    *FRONT_LIMBS, *(f"{limb}_scale" for limb in FRONT_LIMBS), *(f"{limb}_layer" for limb in FRONT_LIMBS),
    "left_reach", "right_reach", "left_reach_bend", "right_reach_bend", "left_foot", "right_foot",
    "left_foot_scale", "right_foot_scale",
}  # fmt: skip
_SIDE_SCALES = {
    f"{s}_{p}" for s in ("near", "far") for p in ("thigh", "shin", "foot", "upper_arm", "forearm")
}
_ARROW_FIELDS = {"point", "from", "to", "bend", "offset", "shorten"}
_PROP_FIELDS: dict[str, set[str]] = {
    "mat": {"kind", "from", "to"},
    "chair": {"kind", "x", "facing", "seat"},
    "wall": {"kind", "x"},
    "water": {"kind", "y"},
    "bike": {"kind", "x", "y", "crank", "wheel", "saddle", "bars"},
}


class _Where:
    def __init__(self, path: Path, exercise_id: str) -> None:
        self.path, self.exercise_id = path, exercise_id

    def fail(self, field: str, problem: str) -> PoseError:
        return PoseError(f"{self.path.name}: '{self.exercise_id}': field '{field}': {problem}")


def _number(where: _Where, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise where.fail(field, f"must be a number, not {value!r}")
    return float(value)


def _check_pose_fields(where: _Where, view: str, name: str, pose: Any) -> None:
    if not isinstance(pose, dict):
        raise where.fail(name, "must be a table of joint angles")
    allowed = _SIDE_FIELDS if view == "side" else _FRONT_FIELDS
    unknown = sorted(set(pose) - allowed)
    if unknown:
        raise where.fail(f"{name}.{unknown[0]}", "unknown field")
    for key, value in pose.items():
        field = f"{name}.{key}"
        if key.endswith("_reach"):
            if isinstance(value, list):
                if len(value) != 2:
                    raise where.fail(field, "a point is [x, y]")
                for v in value:
                    _number(where, field, v)
            elif not isinstance(value, str):
                raise where.fail(field, "must name a point such as 'near_knee' or give [x, y]")
        elif key == "rest":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise where.fail(field, "must be a list of point names")
        elif key == "scale":
            if not isinstance(value, dict) or set(value) - _SIDE_SCALES:
                raise where.fail(field, f"must be a table with some of {', '.join(sorted(_SIDE_SCALES))}")
            for part, v in value.items():
                _check_scale(where, f"{field}.{part}", v)
        elif key in FRONT_LIMBS or (key.endswith("_scale") and key[:-6] in FRONT_LIMBS):
            if not isinstance(value, list) or len(value) != 2:
                raise where.fail(field, "must be a pair [upper, lower]")
            for v in value:
                (_check_scale if key.endswith("_scale") else _number)(where, field, v)
        elif key in ("torso_scale", "shoulder_scale", "hip_scale", "left_foot_scale", "right_foot_scale"):
            _check_scale(where, field, value)
        elif key.endswith(("_layer", "_reach_bend")):
            if value not in ((0, 2) if key.endswith("_layer") else (-1, 1)):
                raise where.fail(field, "must be 0 or 2" if key.endswith("_layer") else "must be 1 or -1")
        else:
            _number(where, field, value)


def _check_scale(where: _Where, field: str, value: Any) -> None:
    low, high = SCALE_RANGE
    if not low <= _number(where, field, value) <= high:
        raise where.fail(field, f"foreshortening must be between {low} and {high}")


def check_possible(figure: ExerciseFigure, name: str, path: Path = DEFAULT_PATH) -> Skeleton:
    """Raise PoseError when pose ``name`` cannot be done by a human body, or floats or sinks."""
    where = _Where(path, figure.id)
    pose = figure.poses[name]
    skeleton = pose_skeleton(figure, pose)
    if figure.view == "side":
        for key, value in skeleton.angles.items():
            side, _, joint = key.rpartition("_")
            low, high = LIMITS[joint]
            if f"{side}_leg" in figure.turned or f"{side}_arm" in figure.turned:
                value = abs(value)
            if not low - 0.5 <= value <= high + 0.5:
                raise where.fail(
                    f"{name}.{key}", f"{value:.0f}° is outside what a body can do ({low:.0f} to {high:.0f})"
                )
        for side in ("near", "far"):
            for key, tip in ((f"{side}_reach", f"{side}_hand"), (f"{side}_leg_reach", f"{side}_ankle")):
                reach = pose.get(key)
                if reach is not None:
                    target = resolve_target(reach, skeleton.points)
                    if math.dist(skeleton.points[tip], target) > 0.01:
                        raise where.fail(f"{name}.{key}", f"the {tip.split('_')[1]} cannot reach that point")
    else:
        for limb in FRONT_LIMBS:
            a1, a2 = skeleton.angles[f"{limb}:0"], skeleton.angles[f"{limb}:1"]
            if abs(_wrap(a2 - a1)) > FRONT_BEND_MAX:
                raise where.fail(f"{name}.{limb}", "the joint folds further than a body can")
        if abs(skeleton.angles["neck"]) > FRONT_NECK_MAX:
            raise where.fail(f"{name}.neck", f"the head tilts more than {FRONT_NECK_MAX:.0f}°")
        for side in ("left", "right"):
            reach = pose.get(f"{side}_reach")
            if reach is not None:
                target = resolve_target(reach, skeleton.points)
                if math.dist(skeleton.points[f"{side}_hand"], target) > 0.01:
                    raise where.fail(f"{name}.{side}_reach", "the hand cannot reach that point")
    if figure.view != "top":
        floor = _support_floor(figure)
        if skeleton.lowest() < floor - TOLERANCE:
            raise where.fail(
                f"{name}.y", f"part of the body is {floor - skeleton.lowest():.3f} below the floor"
            )
    for point in pose.get("rest", []):
        if point not in skeleton.points:
            raise where.fail(f"{name}.rest", f"unknown point {point!r}")
        width = {"hip": TORSO_W, "shoulder": TORSO_W, "pelvis": TRUNK_W, "head": 2 * HEAD_R}.get(
            point, LIMB_W
        )
        gap = skeleton.points[point][1] - width / 2 - _support_floor(figure)
        if abs(gap) > 0.02:
            raise where.fail(f"{name}.rest", f"{point} should rest on the floor but is {gap:+.3f} away")
    return skeleton


def _support_floor(figure: ExerciseFigure) -> float:
    for prop in figure.props:
        if prop.kind == "water":
            return float(prop.params.get("y", 0.0)) - 10.0  # a swimmer floats
    return FLOOR


def _parse_figure(path: Path, exercise_id: str, table: Any) -> ExerciseFigure:
    where = _Where(path, exercise_id)
    if not isinstance(table, dict):
        raise where.fail("-", "must be a table")
    pose_names = [k for k, v in table.items() if isinstance(v, dict) and k not in _TABLE_FIELDS]
    unknown = sorted(k for k in table if k not in _TABLE_FIELDS and k not in pose_names)
    if unknown:
        raise where.fail(unknown[0], "unknown field")
    view = table.get("view", "side")
    if view not in ("side", "front", "top"):
        raise where.fail("view", f"must be side, front or top, not {view!r}")
    motion = table.get("motion", "panels")
    if motion not in ("panels", "gif"):
        raise where.fail("motion", f"must be panels or gif, not {motion!r}")
    for required in ("start", "end"):
        if required not in pose_names:
            raise where.fail(required, "is missing: every exercise needs a start and an end pose")
    for name in pose_names:
        _check_pose_fields(where, view, name, table[name])
    frames = table.get("frames", ["start", "end"])
    if not isinstance(frames, list) or len(frames) < 2 or any(f not in pose_names for f in frames):
        raise where.fail("frames", f"must list at least two of the poses ({', '.join(pose_names)})")
    groups = SIDE_GROUPS if view == "side" else FRONT_GROUPS
    works = table.get("works", [])
    if not isinstance(works, list) or any(w not in groups for w in works):
        raise where.fail("works", f"must be some of {', '.join(groups)}")
    turned = table.get("turned", [])
    if not isinstance(turned, list) or any(
        t not in ("near_leg", "far_leg", "near_arm", "far_arm") for t in turned
    ):
        raise where.fail("turned", "must be some of near_leg, far_leg, near_arm, far_arm (side view)")
    anchor = table.get("anchor", _default_anchor(view))
    if not isinstance(anchor, str):
        raise where.fail("anchor", "must name a point")
    props = tuple(_parse_prop(where, i, p) for i, p in enumerate(table.get("props", [])))
    arrows = tuple(_parse_arrow(where, i, a) for i, a in enumerate(table.get("arrows", [])))
    figure = ExerciseFigure(
        id=exercise_id,
        view=cast(View, view),
        motion=cast(Motion, motion),
        poses={name: table[name] for name in pose_names},
        frames=tuple(frames),
        props=props,
        works=frozenset(works),
        arrows=arrows,
        anchor=anchor,
        raw=table,
        turned=frozenset(turned),
    )
    for name in pose_names:
        skeleton = check_possible(figure, name, path)
        if anchor not in skeleton.points:
            raise where.fail("anchor", f"unknown point {anchor!r}")
    for i, arrow in enumerate(arrows):
        if arrow.point is not None and arrow.point not in skeleton.points:
            raise where.fail(f"arrows[{i}].point", f"unknown point {arrow.point!r}")
    return figure


def _parse_prop(where: _Where, index: int, table: Any) -> Prop:
    field = f"props[{index}]"
    if not isinstance(table, dict) or table.get("kind") not in PROP_KINDS:
        raise where.fail(field, f"must be a table with kind = one of {', '.join(PROP_KINDS)}")
    unknown = sorted(set(table) - _PROP_FIELDS[table["kind"]])
    if unknown:
        raise where.fail(f"{field}.{unknown[0]}", "unknown field")
    for key, value in table.items():
        if key == "kind":
            continue
        for v in value if isinstance(value, list) else [value]:
            _number(where, f"{field}.{key}", v)
    return Prop(table["kind"], {k: v for k, v in table.items() if k != "kind"})


def _parse_arrow(where: _Where, index: int, table: Any) -> Arrow:
    field = f"arrows[{index}]"
    if not isinstance(table, dict):
        raise where.fail(field, "must be a table")
    unknown = sorted(set(table) - _ARROW_FIELDS)
    if unknown:
        raise where.fail(f"{field}.{unknown[0]}", "unknown field")
    point = table.get("point")
    start, end = table.get("from"), table.get("to")
    if (point is None) == (start is None or end is None):
        raise where.fail(field, "give either point (follows a body point) or from and to")

    def pair(key: str, value: Any) -> Point | None:
        if value is None:
            return None
        if not isinstance(value, list) or len(value) != 2:
            raise where.fail(f"{field}.{key}", "must be [x, y]")
        return _number(where, f"{field}.{key}", value[0]), _number(where, f"{field}.{key}", value[1])

    return Arrow(
        point=point,
        start=pair("from", start),
        end=pair("to", end),
        bend=_number(where, f"{field}.bend", table.get("bend", 0.0)),
        offset=pair("offset", table.get("offset", [0.0, 0.0])) or (0.0, 0.0),
        shorten=_number(where, f"{field}.shorten", table.get("shorten", 0.12)),
    )


def parse_poses(
    data: Mapping[str, Any], exercise_ids: Iterable[str] | None = None, path: Path = DEFAULT_PATH
) -> dict[str, ExerciseFigure]:
    """Validate parsed TOML; with ``exercise_ids`` also check every id has poses and no pose is orphaned."""
    figures = {
        exercise_id: _parse_figure(path, exercise_id, table)
        for exercise_id, table in data.items()
        if exercise_id != "meta"
    }
    if exercise_ids is not None:
        ids = list(exercise_ids)
        missing = [i for i in ids if i not in figures]
        if missing:
            raise PoseError(f"{path.name}: exercise '{missing[0]}' has no poses (add a [{missing[0]}] table)")
        orphans = sorted(set(figures) - set(ids))
        if orphans:
            raise PoseError(f"{path.name}: '{orphans[0]}': no exercise in the catalogue has this id")
    return figures


def load_poses(
    path: Path = DEFAULT_PATH, exercise_ids: Iterable[str] | None = None
) -> dict[str, ExerciseFigure]:
    """Read and validate ``poses.toml``; raises PoseError naming what is wrong."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise PoseError(f"{path}: pose file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PoseError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_poses(data, exercise_ids, path)
