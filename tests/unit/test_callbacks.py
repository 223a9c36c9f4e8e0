"""The inline-button codec: round trip, size limit, and garbage in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import KINDS, MAX_BYTES, Action


@given(
    kind=st.sampled_from(sorted(KINDS)),
    session=st.integers(min_value=0, max_value=2**53),
    arg=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", max_size=20),
)
def test_round_trip_within_64_bytes(kind: str, session: int, arg: str) -> None:
    action = Action(kind, session, arg)
    data = action.encode()
    assert len(data.encode()) <= MAX_BYTES
    assert Action.decode(data) == action


@pytest.mark.parametrize(
    "data", [None, "", "pause", "2:pause:1:", "1:explode:1:", "1:pause:x:", "1:pause:1", 42]
)
def test_garbage_decodes_to_none(data: object) -> None:
    assert Action.decode(data) is None


def test_encode_refuses_what_would_not_round_trip() -> None:
    with pytest.raises(ValueError):
        Action("nope").encode()
    with pytest.raises(ValueError):
        Action("pain", 1, "a:b").encode()
    with pytest.raises(ValueError):
        Action("pain", 1, "x" * 80).encode()
