"""Issue 10: fuzz the input layer through the real Application and the fake Bot API.

Random text (any Unicode, up to 4,096 characters), random command arguments, unknown commands and
random callback data (garbage, and forged-but-well-formed ``1:kind:ref:arg`` with huge, negative or
someone else's refs) from people in private chats and in a group.  For every update:

- no handler raised (the application's error handler was not reached, nobody was told "Sorry");
- the fake Bot API rejected nothing (so nothing over Telegram's limits, no broken HTML, no bad edit);
- a message got at most one message back (the one-off safety note before someone's first guided
  session aside), and a tap exactly one ``answerCallbackQuery``.

One bot serves every example: hypothesis drives a sync function that runs each example on the
bot's own event loop (``asyncio.Runner``), so examples are cheap and still shrink.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import safety
from bot.callbacks import KINDS, MAX_ROW_REF, MAX_USER_REF
from bot.errors import DB_UNAVAILABLE, DB_UNAVAILABLE_TAP, SORRY, SORRY_TAP
from bot.ratelimit import SplitRateLimiter
from tests.conftest import BotFactory, BotUnderTest
from tests.harness import ChatUser, SentMessage

MAX_TEXT = 4096
EXAMPLES = 300

NUMBER_COMMANDS = ("/pain", "/break", "/remind")
TEXT_COMMANDS = ("/timezone", "/stretch", "/settings", "/settings leave out", "/settings bring back")
OTHER_COMMANDS = ("/session", "/stats", "/help", "/routine", "/start", "/forget", "/safety", "/exercises")
FILLERS = ("x", "😀", "<", "&", "&amp;", "<b>", "9", "²", "٣", "👨\u200d👩\u200d👧", "e\u0301", "\u202e", " ")

# The defects issue 10 reproduced, replayed before the random examples so every run covers them.
SEED_MESSAGES = (
    "/break ²",
    "/break ①",
    "/break " + "9" * 5000,
    "/pain ٣",
    "٣",
    "9" * MAX_TEXT,
    "/remind " + "<" * 4088,
    "/timezone " + "&" * 4086,
    "/stretch " + "😀" * 4087,
    "/settings leave out " + "<b>" * 1358,
    "/" + "x" * 64 + "&" * 4031,
    "/stretch_" + "knee_" * 817,
)
SEED_TAPS = (
    "1:pause:9223372036854775808:",
    "1:forget:18446744073709551616:yes",
    "1:pain:1:²",
    "1:hurt:1:²",
    "1:snooze:-1:",
    "1:settings:2001:" + "x" * 48,
)

# --- strategies --------------------------------------------------------------------------------------

any_text = st.one_of(
    st.text(max_size=60),
    st.text(min_size=200, max_size=MAX_TEXT),
    st.builds(lambda unit, n: unit * n, st.sampled_from(FILLERS), st.integers(1, MAX_TEXT)),
)
numbers = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        ["²", "①", "٣", "1_0", "+5", "7.5", "-0", "07", "0", "10", "11", "30", "31", "٠٧:٣٠", "7am"]
    ),
    st.builds(lambda n: "9" * n, st.integers(19, 5000)),
    st.from_regex(r"\A[0-9]{1,2}[:.h]?[0-9]{0,2}\s*(am|pm)?\Z"),
)
arguments = st.one_of(numbers, any_text)
commands = st.one_of(
    st.builds(lambda c, a: f"{c} {a}", st.sampled_from(NUMBER_COMMANDS + TEXT_COMMANDS), arguments),
    st.builds(lambda c, a: f"{c} {a}", st.sampled_from(OTHER_COMMANDS), st.one_of(st.just(""), any_text)),
    st.sampled_from(NUMBER_COMMANDS + TEXT_COMMANDS + OTHER_COMMANDS),
    st.builds(
        lambda name, tail: f"/{name}{tail}",
        st.from_regex(r"\A[A-Za-z0-9_]{1,64}\Z"),
        st.one_of(st.just(""), st.just("@backstretch_test_bot"), any_text.map(lambda t: " " + t)),
    ),
)
bare_numbers = st.one_of(numbers, st.from_regex(r"\A\s*[-+]?[0-9]+([.,][0-9]+)?\s*\Z"))
messages = st.one_of(commands, any_text, bare_numbers).map(lambda t: t[:MAX_TEXT])

refs = st.one_of(
    st.integers(0, 5),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63, 2**63 - 1, 2**64, -(2**63), MAX_ROW_REF, MAX_ROW_REF + 1, MAX_USER_REF]),
    st.sampled_from(["", "+1", "01", " 1", "1_0", "²", "٣", "1e3", "x"]),
)
args = st.one_of(
    st.sampled_from(
        ["", "yes", "no", "0", "5", "10", "11", "-1", "²", "٣", "len5", "fboth", "kneel0", "b.bird-dog"]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=30),
)


def _within_64_bytes(data: str) -> str:
    return data.encode()[:64].decode(errors="ignore") or "x"


def callback_data(owners: list[int]) -> st.SearchStrategy[str]:
    forged = st.builds(
        lambda kind, ref, arg: f"1:{kind}:{ref}:{arg}",
        st.sampled_from([*sorted(KINDS), "nope"]),
        st.one_of(refs, st.sampled_from(owners)),
        args,
    )
    return st.one_of(forged, st.text(min_size=1, max_size=64)).map(_within_64_bytes)


# --- the bot under fuzz --------------------------------------------------------------------------


class Fuzz:
    def __init__(self, bot: BotUnderTest) -> None:
        self.bot = bot
        self.errors: list[BaseException] = []
        self.first_note = safety.first_session_note(bot.services.catalogue.guidance)
        self.people = [bot.user(2001, "Ana"), bot.user(2002, "<b>&amp;</b>"), bot.user(2003, "Cy" * 32)]
        # taps someone else's buttons, as in a group (a real group chat would hit the rate limiter's
        # 20 messages a minute per group and slow the run to a crawl)
        self.intruder = ChatUser(bot.fake, 2004, "Di", settle=bot.processor.wait_done, chat_id=2001)
        self.seen = 0

    async def on_error(self, update: object, context: Any) -> None:
        self.errors.append(context.error)

    def forget_the_past(self) -> None:
        """Each example is judged on its own: a failure is not blamed on the examples after it."""
        fake = self.bot.fake
        self.errors.clear()
        fake.internal_errors.clear()
        fake.rejections.clear()
        self.seen = len(fake.all_messages())

    def check_clean(self, what: str) -> None:
        fake = self.bot.fake
        assert not self.errors, f"{what}: a handler raised {self.errors!r}"
        assert not fake.internal_errors, f"{what}: {fake.internal_errors!r}"
        assert not fake.rejections, f"{what}: Telegram would reject {fake.rejections!r}"
        for message in fake.all_messages()[self.seen :]:
            assert message.text not in (SORRY, DB_UNAVAILABLE), f"{what}: the user was told {message.text!r}"

    def replies(self, sent: list[SentMessage]) -> list[SentMessage]:
        """What the bot sent back, less the once-only note before someone's first guided session; an
        exercise's picture followed by its instructions (too long for a caption) is one answer."""
        answers = [m for m in sent if m.raw != self.first_note]
        return [
            m
            for i, m in enumerate(answers)
            if not (m.kind == "text" and i > 0 and answers[i - 1].kind != "text" and not answers[i - 1].text)
        ]

    async def send(self, person: ChatUser, text: str) -> None:
        self.forget_the_past()
        if not text.strip():
            text = "?"
        sent = await person.send(text)
        what = f"{person.first_name} sent {text[:80]!r} ({len(text)} characters)"
        self.check_clean(what)
        assert len(self.replies(sent)) <= 1, f"{what}: {len(sent)} replies: {[m.text[:60] for m in sent]}"

    async def tap(self, person: ChatUser, message: SentMessage, data: str) -> None:
        self.forget_the_past()
        update = person.callback_update(message, data)
        query_id = update["callback_query"]["id"]
        await person.push(update)
        what = f"{person.first_name} tapped {data!r} under #{message.message_id}"
        self.check_clean(what)
        answers = [a for a in self.bot.fake.answers if a.query_id == query_id]
        assert len(answers) == 1, f"{what}: answered {len(answers)} times"
        assert answers[0].text not in (SORRY_TAP, DB_UNAVAILABLE_TAP), f"{what}: {answers[0].text!r}"
        assert len(answers[0].text) <= 200

    def target(self, person: ChatUser, pick: int) -> SentMessage:
        """A message in the person's chat to tap under: one with buttons if there is one."""
        visible = [m for m in person.visible if m.kind == "text"]
        with_buttons = [m for m in visible if m.buttons]
        pool = with_buttons or visible
        return pool[pick % len(pool)]


def test_fuzz_the_input_layer(make_bot: BotFactory) -> None:
    with asyncio.Runner() as runner:
        # timers a minute per second: no countdown edit or phase message lands in the middle of the checks
        running = make_bot(timer_scale=60.0)
        bot = runner.run(running.__aenter__())
        # the fuzz checks what the input layer answers, not Telegram's per-chat pace: at 1 message/s per
        # chat, 300 examples in a few chats would take minutes (timer_scale=60 leaves the pace as it is)
        limiter = bot.app.bot.rate_limiter
        assert isinstance(limiter, SplitRateLimiter)
        limiter._private = limiter._group = (1000.0, 1000.0)
        try:
            fuzz = Fuzz(bot)
            bot.app.add_error_handler(fuzz.on_error)
            for person in fuzz.people:
                runner.run(fuzz.send(person, "/start"))
            owners = [p.user_id for p in fuzz.people]
            ana = fuzz.people[0]
            for text in SEED_MESSAGES:
                runner.run(fuzz.send(ana, text[:MAX_TEXT]))
            for data in SEED_TAPS:
                runner.run(fuzz.tap(ana, ana.last, data[:64]))

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(st.data())
            def one_update(data: st.DataObject) -> None:
                # every draw is made whatever the bot's state, so examples replay and shrink
                person = data.draw(st.sampled_from(fuzz.people), label="person")
                kind = data.draw(st.sampled_from(["message", "message", "tap", "intruder tap"]), label="kind")
                text = data.draw(messages, label="text")
                pick = data.draw(st.integers(0, 50), label="message and button")
                forged = data.draw(st.one_of(st.none(), callback_data(owners)), label="forged data")
                if kind == "message":
                    runner.run(fuzz.send(person, text))
                    return
                tapper = fuzz.intruder if kind == "intruder tap" else person
                message = fuzz.target(fuzz.people[0] if kind == "intruder tap" else person, pick)
                real = [d for row in message.buttons for _, d in row]
                tap = forged if forged is not None or not real else real[pick % len(real)]
                runner.run(fuzz.tap(tapper, message, tap or "x"))

            one_update()
        finally:
            runner.run(running.__aexit__(None, None, None))
