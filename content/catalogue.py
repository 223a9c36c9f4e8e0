"""The exercise catalogue: typed entries, loaded from ``exercises.toml`` and validated strictly.

The data file is meant to be edited by people who are not programmers, so every mistake is
reported with the file, the entry id and the field, and stops the bot before it starts.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

Kind = Literal["stretch", "mobility", "strength", "cardio"]
Pattern = Literal["flexion", "extension", "rotation", "hip", "core", "cardio"]
Position = Literal["lying", "prone", "side_lying", "all_fours", "kneeling", "seated", "standing", "any"]
Intensity = Literal["gentle", "moderate"]
Sides = Literal["each", "both"]

DEFAULT_PATH = Path(__file__).with_name("exercises.toml")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SOURCES = {"000", "001", "002", "003", "004"}

POSITION_LABELS: dict[str, str] = {
    "lying": "lying on your back",
    "prone": "lying on your front",
    "side_lying": "lying on your side",
    "all_fours": "on hands and knees",
    "kneeling": "kneeling",
    "seated": "seated",
    "standing": "standing",
    "any": "anywhere",
}
KIND_TITLES: dict[str, str] = {
    "stretch": "Stretches",
    "mobility": "Mobility",
    "strength": "Strength",
    "cardio": "Low-impact cardio",
}


class CatalogueError(ValueError):
    """A catalogue entry is invalid; the message names the file, the entry and the field."""


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive range of whole numbers taken from the source articles, e.g. 20-30 seconds."""

    low: int
    high: int

    def pick(self, level: float) -> int:
        """The value at ``level`` in [0, 1] along the range (0 = low end, 1 = high end)."""
        level = min(1.0, max(0.0, level))
        return round(self.low + (self.high - self.low) * level)

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


@dataclass(frozen=True, slots=True)
class Dose:
    """How much of an exercise: holds and reps, or minutes for cardio."""

    hold_seconds: Range | None = None
    reps: Range | None = None
    sides: Sides = "both"
    rest_seconds: int = 5
    minutes: Range | None = None
    sessions_per_week: Range | None = None
    note: str = ""

    @property
    def timed(self) -> bool:
        """True when each rep is a timed hold (the session counts it down)."""
        return self.hold_seconds is not None


@dataclass(frozen=True, slots=True)
class Exercise:
    """One catalogue entry."""

    id: str
    name: str
    aliases: tuple[str, ...]
    kind: Kind
    pattern: Pattern
    position: Position
    intensity: Intensity
    targets: tuple[str, ...]
    start: str
    steps: tuple[str, ...]
    feel: str
    cues: tuple[str, ...]
    cautions: tuple[str, ...]
    sources: tuple[str, ...]
    dose: Dose
    directions: frozenset[str] = frozenset()
    """The spinal movement directions the exercise loads (flexion, extension, rotation): a hurt on one
    of them keeps its relatives out of the next week's routines. Defaults to the pattern when it is
    one of the three."""
    card_caution: str | None = None
    """One short line of caution shown on the session card (None: the card shows none)."""

    @property
    def is_cardio(self) -> bool:
        return self.kind == "cardio"


@dataclass(frozen=True, slots=True)
class Guidance:
    """A piece of general advice from the articles."""

    id: str
    title: str
    text: str
    tip: str | None = None
    """One short line (at most 100 characters) that the session card can rotate through."""


@dataclass(frozen=True, eq=False)  # one object per loaded file: equal (and hashed) by identity
class Catalogue:
    """All exercises and the general guidance, in file order.

    ``retired`` maps ids that no longer have an entry of their own (merged into another exercise) to
    the live id that replaced them: ``get`` and ``[]`` resolve them, because old sessions and users'
    settings still refer to them, while iteration, ``exercises`` and ``routine_exercises`` list only
    live entries.
    """

    exercises: tuple[Exercise, ...]
    guidance: tuple[Guidance, ...]
    retired: Mapping[str, str] = field(default_factory=dict, hash=False)
    by_id: Mapping[str, Exercise] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", MappingProxyType({e.id: e for e in self.exercises}))
        object.__setattr__(self, "retired", MappingProxyType(dict(self.retired)))

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self.exercises)

    def __len__(self) -> int:
        return len(self.exercises)

    def get(self, exercise_id: str) -> Exercise | None:
        """The live exercise with this id, or the one that replaced a retired id; None if unknown."""
        found = self.by_id.get(exercise_id)
        if found is None and exercise_id in self.retired:
            found = self.by_id.get(self.retired[exercise_id])
        return found

    def canonical_id(self, exercise_id: str) -> str:
        """The live id for ``exercise_id``: itself, or its replacement when it is retired."""
        return self.retired.get(exercise_id, exercise_id)

    def __getitem__(self, exercise_id: str) -> Exercise:
        found = self.get(exercise_id)
        if found is None:
            raise KeyError(exercise_id)
        return found

    @property
    def routine_exercises(self) -> tuple[Exercise, ...]:
        """The exercises a guided routine can contain (everything but cardio)."""
        return tuple(e for e in self.exercises if not e.is_cardio)


class _Entry:
    """Reads typed fields out of one TOML table, raising errors that say where."""

    def __init__(self, path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
        self.path, self.where, self.table = path, where, table
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def fail(self, field: str, problem: str) -> None:
        raise CatalogueError(f"{self.path.name}: {self.where}: field '{field}': {problem}")

    def text(self, field: str, *, required: bool = True, max_len: int = 600) -> str:
        value = self.table.get(field)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(field, "must be a non-empty string")
        if len(cast(str, value)) > max_len:
            self.fail(field, f"is longer than {max_len} characters")
        return cast(str, value).strip()

    def texts(self, field: str, *, low: int, high: int, max_len: int = 600) -> tuple[str, ...]:
        value = self.table.get(field, [] if low == 0 else None)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(field, "must be a list of non-empty strings")
        items = cast("list[str]", value)
        if not low <= len(items) <= high:
            self.fail(field, f"must have {low} to {high} items, has {len(items)}")
        for item in items:
            if len(item) > max_len:
                self.fail(field, f"item {item[:30]!r}… is longer than {max_len} characters")
        return tuple(v.strip() for v in items)

    def choice(self, field: str, literal: Any) -> Any:
        options = get_args(literal)
        value = self.table.get(field)
        if value not in options:
            self.fail(field, f"must be one of {', '.join(options)}, not {value!r}")
        return value

    def range(self, field: str, *, low: int, high: int) -> Range | None:
        value = self.table.get(field)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            self.fail(field, "must be a pair of whole numbers [min, max]")
        a, b = cast("list[int]", value)
        if not (low <= a <= b <= high):
            self.fail(field, f"must satisfy {low} <= min <= max <= {high}, got [{a}, {b}]")
        return Range(a, b)


_EXERCISE_FIELDS = {
    "id", "name", "aliases", "kind", "pattern", "position", "intensity", "targets",
    "start", "steps", "feel", "cues", "cautions", "sources", "dose", "directions", "card_caution",
}  # fmt: skip
DIRECTIONS = ("flexion", "extension", "rotation")
_DOSE_FIELDS = {"hold_seconds", "reps", "sides", "rest_seconds", "minutes", "sessions_per_week", "note"}


def _parse_dose(path: Path, where: str, kind: str, table: Any) -> Dose:
    if not isinstance(table, dict):
        raise CatalogueError(f"{path.name}: {where}: field 'dose': must be a table [exercise.dose]")
    entry = _Entry(path, f"{where} dose", table, _DOSE_FIELDS)
    note = entry.text("note", required=False)
    if kind == "cardio":
        minutes = entry.range("minutes", low=1, high=180)
        per_week = entry.range("sessions_per_week", low=1, high=14)
        if minutes is None or per_week is None:
            entry.fail("minutes", "cardio needs minutes and sessions_per_week")
        for field in ("hold_seconds", "reps", "sides"):
            if field in table:
                entry.fail(field, "cardio takes minutes and sessions_per_week only")
        return Dose(minutes=minutes, sessions_per_week=per_week, note=note)
    reps = entry.range("reps", low=1, high=60)
    if reps is None:
        entry.fail("reps", "is required")
    rest = table.get("rest_seconds", 5)
    if not isinstance(rest, int) or isinstance(rest, bool) or not 0 <= rest <= 60:
        entry.fail("rest_seconds", "must be a whole number of seconds from 0 to 60")
    for field in ("minutes", "sessions_per_week"):
        if field in table:
            entry.fail(field, "is only for cardio")
    return Dose(
        hold_seconds=entry.range("hold_seconds", low=1, high=60),
        reps=reps,
        sides=entry.choice("sides", Sides),
        rest_seconds=rest,
        note=note,
    )


def _parse_exercise(path: Path, index: int, table: Any) -> Exercise:
    where = f"exercise #{index + 1}"
    if not isinstance(table, dict):
        raise CatalogueError(f"{path.name}: {where}: must be a table [[exercise]]")
    raw_id = table.get("id")
    if isinstance(raw_id, str):
        where = f"exercise '{raw_id}'"
    entry = _Entry(path, where, table, _EXERCISE_FIELDS)
    exercise_id = entry.text("id", max_len=30)  # it travels in button data (64 bytes)
    if not _ID.match(exercise_id):
        entry.fail("id", "must be lower-case kebab-case, e.g. 'knee-to-chest'")
    kind = entry.choice("kind", Kind)
    pattern = entry.choice("pattern", Pattern)
    if (kind == "cardio") != (pattern == "cardio"):
        entry.fail("pattern", "'cardio' goes with kind 'cardio' and only with it")
    sources = entry.texts("sources", low=1, high=5, max_len=3)
    for source in sources:
        if source not in _SOURCES:
            entry.fail("sources", f"unknown source article {source!r} (use {', '.join(sorted(_SOURCES))})")
    directions = entry.texts("directions", low=0, high=3, max_len=10)
    for direction in directions:
        if direction not in DIRECTIONS:
            entry.fail("directions", f"must be some of {', '.join(DIRECTIONS)}, not {direction!r}")
    if not directions and pattern in DIRECTIONS:
        directions = (pattern,)
    card_caution = entry.text("card_caution", required=False, max_len=90) or None
    return Exercise(
        id=exercise_id,
        name=entry.text("name", max_len=60),
        aliases=tuple(a.lower() for a in entry.texts("aliases", low=0, high=12, max_len=60)),
        kind=kind,
        pattern=pattern,
        position=entry.choice("position", Position),
        intensity=entry.choice("intensity", Intensity),
        targets=entry.texts("targets", low=1, high=4, max_len=40),
        start=entry.text("start"),
        steps=entry.texts("steps", low=1, high=8),
        feel=entry.text("feel"),
        cues=entry.texts("cues", low=1, high=3, max_len=60),
        cautions=entry.texts("cautions", low=1, high=4),
        sources=sources,
        dose=_parse_dose(path, where, kind, table.get("dose")),
        directions=frozenset(directions),
        card_caution=card_caution,
    )


def _parse_guidance(path: Path, index: int, table: Any) -> Guidance:
    where = f"guidance #{index + 1}"
    if not isinstance(table, dict):
        raise CatalogueError(f"{path.name}: {where}: must be a table [[guidance]]")
    raw_id = table.get("id")
    if isinstance(raw_id, str):
        where = f"guidance '{raw_id}'"
    entry = _Entry(path, where, table, {"id", "title", "text", "tip"})
    guidance_id = entry.text("id", max_len=60)
    if not _ID.match(guidance_id):
        entry.fail("id", "must be lower-case kebab-case")
    return Guidance(
        id=guidance_id,
        title=entry.text("title", max_len=80),
        text=entry.text("text"),
        tip=entry.text("tip", required=False, max_len=100) or None,
    )


def _parse_retired(path: Path, index: int, table: Any) -> tuple[str, str]:
    where = f"retired #{index + 1}"
    if not isinstance(table, dict):
        raise CatalogueError(f"{path.name}: {where}: must be a table [[retired]]")
    raw_id = table.get("id")
    if isinstance(raw_id, str):
        where = f"retired '{raw_id}'"
    entry = _Entry(path, where, table, {"id", "replaced_by"})
    old_id = entry.text("id", max_len=30)
    if not _ID.match(old_id):
        entry.fail("id", "must be lower-case kebab-case")
    return old_id, entry.text("replaced_by", max_len=30)


def parse_catalogue(data: Mapping[str, Any], path: Path = DEFAULT_PATH) -> Catalogue:
    """Validate already-parsed TOML data and build the catalogue."""
    unknown = sorted(set(data) - {"meta", "exercise", "guidance", "retired"})
    if unknown:
        raise CatalogueError(f"{path.name}: unknown top-level table '{unknown[0]}'")
    raw_exercises = data.get("exercise")
    if not isinstance(raw_exercises, list) or not raw_exercises:
        raise CatalogueError(f"{path.name}: no [[exercise]] entries")
    exercises = [_parse_exercise(path, i, t) for i, t in enumerate(raw_exercises)]
    guidance = [_parse_guidance(path, i, t) for i, t in enumerate(data.get("guidance", []))]
    raw_retired = data.get("retired", [])
    if not isinstance(raw_retired, list):
        raise CatalogueError(f"{path.name}: 'retired' must be a list of [[retired]] tables")
    retired = [_parse_retired(path, i, t) for i, t in enumerate(raw_retired)]
    owner = _check_names(path, exercises)
    _check_retired(path, exercises, retired, owner)
    if len({g.id for g in guidance}) != len(guidance):
        raise CatalogueError(f"{path.name}: guidance ids must be unique")
    return Catalogue(tuple(exercises), tuple(guidance), dict(retired))


def _check_retired(
    path: Path, exercises: list[Exercise], retired: list[tuple[str, str]], owner: Mapping[str, str]
) -> None:
    """A retired id is not live, appears once, and is replaced by a live exercise."""
    live = {e.id for e in exercises}
    seen: set[str] = set()
    for old_id, new_id in retired:
        where = f"{path.name}: retired '{old_id}'"
        if old_id in live:
            raise CatalogueError(f"{where}: field 'id': '{old_id}' is still a live exercise id")
        if old_id in seen:
            raise CatalogueError(f"{where}: field 'id': '{old_id}' is retired twice")
        seen.add(old_id)
        if new_id not in live:
            raise CatalogueError(f"{where}: field 'replaced_by': no exercise has the id '{new_id}'")
        for name in (old_id, old_id.replace("-", " ")):
            if owner.get(name, new_id) != new_id:
                raise CatalogueError(
                    f"{where}: field 'id': {name!r} names exercise '{owner[name]}', not '{new_id}'"
                )


def _check_names(path: Path, exercises: list[Exercise]) -> dict[str, str]:
    """Ids are unique, and every id, name and alias points at exactly one exercise.

    Returns which exercise owns each name (lower case)."""
    seen: set[str] = set()
    for exercise in exercises:
        if exercise.id in seen:
            raise CatalogueError(
                f"{path.name}: exercise '{exercise.id}': field 'id': '{exercise.id}' is already used"
            )
        seen.add(exercise.id)
    owner: dict[str, str] = {}
    for exercise in exercises:
        names = {exercise.id, exercise.id.replace("-", " "), exercise.name.lower(), *exercise.aliases}
        for name in names:
            previous = owner.setdefault(name, exercise.id)
            if previous != exercise.id:
                field = "id" if name == exercise.id else "aliases"
                raise CatalogueError(
                    f"{path.name}: exercise '{exercise.id}': field '{field}': "
                    f"{name!r} is already used by exercise '{previous}'"
                )
    return owner


def load_catalogue(path: Path = DEFAULT_PATH) -> Catalogue:
    """Read and validate the catalogue file; raises CatalogueError naming what is wrong."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: catalogue file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_catalogue(data, path)
