"""Typed, versioned inline-button data that stays inside Telegram's 64-byte limit.

``Action("pause", ref=12).encode()`` gives ``"1:pause:12:"``; ``Action.decode`` returns None for
anything it does not understand (an old client, a forged tap), never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64
KINDS = frozenset(
    {
        "start",  # start today's routine as a guided session
        "pause", "resume", "skip", "stop", "hurt", "done",  # buttons on a running session
        "continue", "restart",  # a live or interrupted session
        "pain",  # a 0-10 answer; arg is the score
        "snooze",  # a reminder, one hour later
        "stats", "progress",
        "settings",  # arg says which setting
        "forget",  # arg yes/no
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    ref: int = 0
    """What the button belongs to: a session id, a reminder delivery id, or the owner's user id."""
    arg: str = ""

    def encode(self) -> str:
        if self.kind not in KINDS:
            raise ValueError(f"unknown action {self.kind!r}")
        if ":" in self.arg:
            raise ValueError("an action argument cannot contain ':'")
        data = f"{VERSION}:{self.kind}:{self.ref}:{self.arg}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def decode(cls, data: object) -> Action | None:
        if not isinstance(data, str):
            return None
        parts = data.split(":")
        if len(parts) != 4 or parts[0] != VERSION or parts[1] not in KINDS:
            return None
        try:
            ref = int(parts[2])
        except ValueError:
            return None
        return cls(parts[1], ref, parts[3])
