"""Issue 13 end to end: /stretch sends the exercise's picture, uploaded once and then resent by file_id."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot import media, render
from bot.media import CAPTION_LIMIT, caption_fits, visible_length
from storage.media import MediaRepository
from storage.models import MediaFile
from tests.conftest import BotFactory, BotUnderTest


def _uploaded(params: dict[str, Any], field: str) -> bool:
    """True when the request carried the file itself (multipart), not a file_id string."""
    value = params.get(field)
    return (
        value is None
        or (isinstance(value, str) and value.startswith("attach://"))
        or not isinstance(value, str)
    )


async def _media_rows(bot: BotUnderTest) -> list[MediaFile]:
    async with bot.db.transaction() as repos:
        return list((await repos.session.execute(select(MediaFile))).scalars())


async def test_stretch_cat_cow_sends_an_animation_then_reuses_its_file_id(bot: BotUnderTest) -> None:
    user = bot.user()
    cat_cow = bot.services.catalogue["cat-cow"]
    (first,) = await user.send("/stretch cat cow")
    assert first.kind == "document" and first.mime_type == "image/gif"
    assert (first.document or b"").startswith(b"GIF89a")
    assert first.caption is not None and cat_cow.name in first.caption and "Dose:" in first.caption
    (upload,) = bot.fake.calls_to("sendAnimation")
    assert _uploaded(upload, "animation")

    (second,) = await user.send("/stretch cat cow")
    assert second.document == first.document and second.caption == first.caption
    resend = bot.fake.calls_to("sendAnimation")[-1]
    file_id = f"animation-{user.chat_id}-{first.message_id}"
    assert resend["animation"] == file_id, "the second send reuses the stored file_id instead of uploading"
    rows = await _media_rows(bot)
    assert [row.file_id for row in rows] == [file_id]
    assert not bot.fake.rejections


async def test_a_still_picture_is_a_photo_reused_across_chats(bot: BotUnderTest) -> None:
    ana, bo = bot.user(1001), bot.user(1002, "Bo")
    (photo,) = await ana.send("/stretch knee to chest")
    assert photo.kind == "photo" and (photo.photo or b"").startswith(b"\x89PNG")
    assert photo.caption == _visible(render.exercise_detail(bot.services.catalogue["knee-to-chest"]))
    (again,) = await bo.send("/stretch_knee_to_chest")
    assert again.kind == "photo" and again.photo == photo.photo
    first, second = bot.fake.calls_to("sendPhoto")
    assert _uploaded(first, "photo") and second["photo"] == f"photo-{ana.chat_id}-{photo.message_id}"


async def test_a_long_caption_follows_the_picture_as_text(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/start")
    services = bot.services
    assert services.pictures is not None
    caption = "<b>Long</b> " + "word " * 260
    assert not caption_fits(caption)
    sent = await services.pictures.send_exercise_picture(
        bot.app.bot, user.chat_id, services.catalogue["knee-to-chest"], caption=caption
    )
    picture, text = bot.fake.visible(user.chat_id)[-2:]
    assert picture.kind == "photo" and not picture.caption
    assert text.kind == "text" and text.text.startswith("Long word") and sent is not None
    assert sent.message_id == text.message_id


async def test_every_too_long_exercise_text_still_arrives_whole(bot: BotUnderTest) -> None:
    long_ones = [e for e in bot.services.catalogue if not caption_fits(render.exercise_detail(e))]
    if not long_ones:
        pytest.skip("every exercise text fits in a caption")
    user = bot.user()
    exercise = long_ones[0]
    picture, text = await user.send(f"/stretch {exercise.name}")
    assert picture.kind in ("photo", "document") and not picture.caption
    assert text.kind == "text" and exercise.name in text.text and "Dose:" in text.text


async def test_text_only_when_the_picture_cannot_be_drawn(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(exercise_id: str, folder: Any) -> Any:
        raise RuntimeError("no matplotlib today")

    monkeypatch.setattr(media, "cached_image", broken)
    user = bot.user()
    (reply,) = await user.send("/stretch bridging")
    assert reply.kind == "text" and bot.services.catalogue["bridging"].name in reply.text
    assert not bot.fake.calls_to("sendPhoto") and not bot.fake.calls_to("sendAnimation")


async def test_a_stale_file_id_is_replaced_by_a_fresh_upload(bot: BotUnderTest) -> None:
    """A file_id stored under another bot token (or one Telegram forgot) is refused: the picture is
    uploaded again, and the fresh file_id replaces the stale one, in the table and in memory."""
    assert bot.services.pictures is not None
    _, key, _ = await bot.services.pictures.picture("knee-to-chest")
    async with bot.db.transaction() as repos:
        await MediaRepository(repos.session).remember(key, "from-another-bot-token", bot.services.clock.now())
    user = bot.user()
    (first,) = await user.send("/stretch knee to chest")
    stale, fresh = bot.fake.calls_to("sendPhoto")
    assert stale["photo"] == "from-another-bot-token" and _uploaded(fresh, "photo")
    assert first.kind == "photo"
    assert [r.file_id for r in await _media_rows(bot)] == [f"photo-{user.chat_id}-{first.message_id}"]
    (second,) = await user.send("/stretch knee to chest")
    assert second.photo == first.photo
    assert bot.fake.calls_to("sendPhoto")[-1]["photo"] == f"photo-{user.chat_id}-{first.message_id}"


def test_caption_length_counts_what_telegram_counts() -> None:
    assert visible_length("<b>a&amp;b</b>") == 3
    assert visible_length("😀") == 2  # UTF-16 units
    assert caption_fits("x" * CAPTION_LIMIT) and not caption_fits("x" * (CAPTION_LIMIT + 1))


def _visible(html_text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", html_text)).strip()


async def test_the_session_card_comes_with_the_exercise_picture(make_bot: BotFactory) -> None:
    from tests.test_e2e_session import is_card, start_session

    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        card = await start_session(user)
        before = [m for m in user.messages if m.message_id < card.message_id]
        assert before[-1].kind in ("photo", "document") and not before[-1].text  # the picture, just above
        await user.click(card, "Skip")
        second = await user.wait_for(lambda m: is_card(m) and m.text.startswith("2/"))
        pictures = [
            m for m in user.messages if m.kind in ("photo", "document") and m.message_id < second.message_id
        ]
        assert len(pictures) == 2  # one per exercise, not per step
        await user.click(second, "Stop")
