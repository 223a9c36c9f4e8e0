"""The inline-button codec: round trip, size limit, and garbage in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import KINDS, MAX_BYTES, MAX_ROW_REF, MAX_USER_REF, Action, max_ref


@given(
    kind=st.sampled_from(sorted(KINDS)),
    ref=st.integers(min_value=0, max_value=MAX_USER_REF),
    arg=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", max_size=20),
)
def test_round_trip_within_64_bytes(kind: str, ref: int, arg: str) -> None:
    ref = min(ref, max_ref(kind))
    action = Action(kind, ref, arg)
    data = action.encode()
    assert len(data.encode()) <= MAX_BYTES
    assert Action.decode(data) == action


def test_user_ids_and_row_ids_have_their_columns_ranges() -> None:
    assert Action.decode(f"1:forget:{MAX_USER_REF}:yes") == Action("forget", MAX_USER_REF, "yes")
    assert Action.decode(f"1:settings:{MAX_USER_REF + 1}:len5") is None
    assert Action.decode(f"1:pain:{MAX_ROW_REF}:5") == Action("pain", MAX_ROW_REF, "5")
    assert Action.decode(f"1:pain:{MAX_ROW_REF + 1}:5") is None  # a PostgreSQL Integer overflows


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "pause",
        "2:pause:1:",
        "1:explode:1:",
        "1:pause:x:",
        "1:pause:1",
        42,
        b"1:pause:1:",
        "1:pause:9223372036854775808:",  # 2**63: OverflowError in a BigInteger column
        "1:pause:99999999999999999999999999999999999999999999999999999:",
        "1:pause:-1:",
        "1:pause:+1:",
        "1:pause:01:",
        "1:pause: 1:",
        "1:pause:1_0:",
        "1:pause:²:",
        "1:pause:٣:",
        "1:pause::",
        "1:pain:1:٣",
        "1:pain:1: 5",
        "1:pain:1:5:",
        "1:pain:1:<b>",
        "1:pain:1:" + "5" * 60,
        "1:pause:1:" + "x" * 100,
    ],
)
def test_garbage_decodes_to_none(data: object) -> None:
    assert Action.decode(data) is None


@given(st.text(max_size=64))
def test_anything_a_client_can_send_decodes_or_is_refused(data: str) -> None:
    action = Action.decode(data)
    if action is not None:
        assert 0 <= action.ref <= max_ref(action.kind)
        assert action.encode() == data


@given(
    kind=st.sampled_from(sorted(KINDS)),
    ref=st.one_of(st.integers(), st.integers(min_value=2**31).map(str), st.text(max_size=25)),
    arg=st.text(max_size=40),
)
def test_forged_but_well_formed_data_never_raises(kind: str, ref: object, arg: str) -> None:
    action = Action.decode(f"1:{kind}:{ref}:{arg}")
    if action is not None:
        assert 0 <= action.ref <= max_ref(kind)
        assert action.encode() == f"1:{kind}:{ref}:{arg}"


def test_encode_refuses_what_would_not_round_trip() -> None:
    with pytest.raises(ValueError):
        Action("nope").encode()
    with pytest.raises(ValueError):
        Action("pain", 1, "a:b").encode()
    with pytest.raises(ValueError):
        Action("pain", 1, "x" * 80).encode()
    with pytest.raises(ValueError):
        Action("pain", -1, "5").encode()
    with pytest.raises(ValueError):
        Action("pause", MAX_ROW_REF + 1).encode()
    with pytest.raises(ValueError):
        Action("pain", 1, "٣").encode()
