"""Typed, versioned inline-button data that stays inside Telegram's 64-byte limit.

``Action("pause", ref=12).encode()`` gives ``"1:pause:12:"``; ``Action.decode`` returns None for
anything it does not understand (an old client, a forged tap), never raises.  Callback data comes
from the client, so a tap can carry anything up to 64 bytes: decode accepts only what ``encode``
could have made — a ref in canonical ASCII digits within the range its kind's database column holds,
an argument of letters, digits, '.', '_' and '-' — so no handler meets a number its database (or
Python's ``int``) chokes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64
KINDS = frozenset(
    {
        "start",  # start today's routine as a guided session
        "pause", "resume", "skip", "stop", "hurt", "done",  # buttons on a running session
        "hurt_go", "hurt_stop",  # the choice after "It hurts": skip that exercise and go on, or stop
        "continue", "restart",  # a live or interrupted session
        "pain",  # a 0-10 answer; arg is the score
        "snooze",  # a reminder, one hour later
        "stats", "progress",
        "settings",  # arg says which setting
        "forget",  # arg yes/no
    }
)  # fmt: skip
USER_REF_KINDS = frozenset({"settings", "forget"})
"""Kinds whose ref is the owner's Telegram user id (a BigInteger; Telegram keeps ids below 2**53)."""
MAX_USER_REF = 2**53
MAX_ROW_REF = 2**31 - 1
"""Every other ref is a row id (session, reminder delivery) in an Integer column, or 0."""
MAX_ARG = 48
_REF = re.compile(r"0|[1-9][0-9]{0,15}")
_ARG = re.compile(rf"[A-Za-z0-9._-]{{0,{MAX_ARG}}}")


def max_ref(kind: str) -> int:
    """The largest ref a button of ``kind`` can carry."""
    return MAX_USER_REF if kind in USER_REF_KINDS else MAX_ROW_REF


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    ref: int = 0
    """What the button belongs to: a session id, a reminder delivery id, or the owner's user id."""
    arg: str = ""

    def encode(self) -> str:
        if self.kind not in KINDS:
            raise ValueError(f"unknown action {self.kind!r}")
        if not 0 <= self.ref <= max_ref(self.kind):
            raise ValueError(f"ref {self.ref} out of range for {self.kind!r}")
        if not _ARG.fullmatch(self.arg):
            raise ValueError(f"an action argument is up to {MAX_ARG} of A-Z a-z 0-9 . _ -: {self.arg!r}")
        data = f"{VERSION}:{self.kind}:{self.ref}:{self.arg}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def decode(cls, data: object) -> Action | None:
        if not isinstance(data, str) or len(data) > MAX_BYTES:
            return None
        parts = data.split(":")
        if len(parts) != 4 or parts[0] != VERSION or parts[1] not in KINDS:
            return None
        kind, ref_text, arg = parts[1], parts[2], parts[3]
        if not _REF.fullmatch(ref_text) or not _ARG.fullmatch(arg):
            return None
        ref = int(ref_text)
        if ref > max_ref(kind):
            return None
        return cls(kind, ref, arg)
