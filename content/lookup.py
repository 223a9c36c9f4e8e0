"""Forgiving exercise lookup: ids, names and aliases in any case, with small typos.

``find("piriformus")`` finds the piriformis stretch; an unknown name returns up to three suggestions.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from content.catalogue import Catalogue, Exercise

_FILLER = {"stretch", "stretches", "stretching", "exercise", "exercises", "the", "a", "an", "yoga", "my"}
_MATCH_CUTOFF = 0.8
_SUGGEST_CUTOFF = 0.5


def normalize(text: str) -> str:
    """Lower-case, drop accents and apostrophes, and reduce everything else to single spaces."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"['’`]", "", text.lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _strip_filler(text: str) -> str:
    words = [w for w in text.split() if w not in _FILLER]
    return " ".join(words) or text


@dataclass(frozen=True, slots=True)
class LookupResult:
    """The exercise that was found, or None with up to three suggestions."""

    exercise: Exercise | None
    suggestions: tuple[Exercise, ...] = ()


class ExerciseIndex:
    """Every way of naming an exercise, mapped to the exercise."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    @cached_property
    def _keys(self) -> dict[str, Exercise]:
        keys: dict[str, Exercise] = {}
        for exercise in self._catalogue:
            for name in (exercise.id, exercise.name, *exercise.aliases):
                for key in {normalize(name), _strip_filler(normalize(name))}:
                    keys.setdefault(key, exercise)
        for old_id in self._catalogue.retired:  # a merged exercise's old id still finds its successor
            successor = self._catalogue.get(old_id)
            if successor is not None:
                for key in {normalize(old_id), _strip_filler(normalize(old_id))}:
                    keys.setdefault(key, successor)
        return keys

    def find(self, query: str) -> LookupResult:
        """Find one exercise by a name a person typed."""
        wanted = normalize(query)
        if not wanted:
            return LookupResult(None)
        keys = self._keys
        for candidate in (wanted, _strip_filler(wanted)):
            if candidate in keys:
                return LookupResult(keys[candidate])
        candidate = _strip_filler(wanted)
        close = difflib.get_close_matches(candidate, keys, n=8, cutoff=_SUGGEST_CUTOFF)
        ranked = _unique([keys[k] for k in close])
        if close and difflib.SequenceMatcher(None, candidate, close[0]).ratio() >= _MATCH_CUTOFF:
            runner_up = [e for e in ranked[1:] if _ratio(candidate, e, keys) >= _MATCH_CUTOFF]
            if not runner_up:
                return LookupResult(ranked[0])
        words = set(candidate.split())
        containing = _unique([e for k, e in keys.items() if words <= set(k.split())])
        if len(containing) == 1:
            return LookupResult(containing[0])
        suggestions = _unique(containing + ranked)[:3]
        return LookupResult(None, tuple(suggestions))


def _ratio(candidate: str, exercise: Exercise, keys: dict[str, Exercise]) -> float:
    return max(difflib.SequenceMatcher(None, candidate, k).ratio() for k, e in keys.items() if e is exercise)


def _unique(exercises: list[Exercise]) -> list[Exercise]:
    seen: set[str] = set()
    out = []
    for exercise in exercises:
        if exercise.id not in seen:
            seen.add(exercise.id)
            out.append(exercise)
    return out
