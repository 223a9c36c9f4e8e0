"""End-to-end: /remind and /timezone, and reminders arriving when the (fake) clock says so."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.metrics import METRICS_KEY
from storage.models import ReminderDelivery, User
from tests.conftest import BotFactory, BotUnderTest


async def user_row(bot: BotUnderTest, user_id: int = 1001) -> User:
    async with bot.db.transaction() as repos:
        return (await repos.session.execute(select(User).where(User.id == user_id))).scalar_one()


async def deliveries(bot: BotUnderTest) -> list[ReminderDelivery]:
    async with bot.db.transaction() as repos:
        return list(
            (await repos.session.execute(select(ReminderDelivery).order_by(ReminderDelivery.id))).scalars()
        )


async def tick(bot: BotUnderTest) -> int:
    assert bot.services.reminders is not None
    await bot.services.reminders.tick()
    return await bot.services.reminders.drain()


async def test_reminder_arrives_with_todays_routine_and_working_buttons(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock, timer_scale=0.05) as bot:
        user = bot.user()
        await user.send("/timezone Europe/Berlin")
        assert "Europe/Berlin" in user.last_text
        await user.send("/remind 7:30")
        assert "07:30" in user.last_text and "Next one" in user.last_text
        assert (await user_row(bot)).next_reminder_at == datetime(2026, 11, 25, 6, 30, tzinfo=UTC)

        clock.set(datetime(2026, 11, 25, 6, 29, tzinfo=UTC))
        assert await tick(bot) == 0
        clock.set(datetime(2026, 11, 25, 6, 30, 2, tzinfo=UTC))
        assert await tick(bot) == 1
        reminder = user.last
        assert "Time for your back" in reminder.text
        await user.send("/routine")
        routine_names = [
            line.split("<b>")[1].split("</b>")[0] for line in user.last.raw.splitlines() if line[:1].isdigit()
        ]
        assert len(routine_names) >= 4 and all(name in reminder.text for name in routine_names)
        assert (await deliveries(bot))[0].status == "sent"
        assert await tick(bot) == 0  # never twice for one day
        counted = bot.app.bot_data[METRICS_KEY].exposition().decode()
        assert 'backstretch_reminders_total{outcome="claimed"} 1.0' in counted
        assert 'backstretch_reminders_total{outcome="sent"} 1.0' in counted

        await user.click(reminder, "Snooze")
        assert "hour" in user.last_answer
        clock.advance(minutes=61)
        assert await tick(bot) == 1
        assert "Time for your back" in user.last_text

        await user.click(reminder, "Start")
        await user.wait_for(lambda m: "⏸ Pause" in m.button_labels)
        await user.click(user.last, "Stop")


async def test_remind_bad_times_change_nothing_and_off_stops(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/remind 08:00")
    for bad in ("/remind 25:99", "/remind tomorrow", "/remind 7:5"):
        await user.send(bad)
        assert "couldn't read" in user.last_text, bad
    assert (await user_row(bot)).reminder_time == "08:00"
    await user.send("/remind")
    assert "08:00" in user.last_text
    await user.send("/remind off")
    row = await user_row(bot)
    assert row.reminder_time is None and row.next_reminder_at is None
    await user.send("/remind")
    assert "no daily reminder" in user.last_text


async def test_timezone_forms_and_unknown_zone(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/timezone")
    assert "UTC" in user.last_text
    await user.send("/timezone europe/berlin")
    assert "Europe/Berlin" in user.last_text
    await user.send("/timezone Atlantis/Nowhere")
    assert "don't know" in user.last_text
    assert (await user_row(bot)).timezone == "Europe/Berlin"
    await user.send("/timezone UTC+2")
    assert "Time zone set to UTC+2" in user.last_text
    await user.send("/timezone")
    assert "UTC+2" in user.last_text and "Etc/" not in user.last_text


async def test_no_reminder_after_a_completed_session_and_blocked_user_is_switched_off(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock) as bot:
        ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        await ana.send("/remind 10:00")
        await bo.send("/remind 10:00")
        bot.fake.block(1002)
        clock.set(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC))
        assert await tick(bot) == 1
        rows = {d.user_id: d for d in await deliveries(bot)}
        assert rows[1001].status == "sent" and rows[1002].status == "failed" and rows[1002].error == "blocked"
        assert (await user_row(bot, 1002)).reminder_time is None


async def test_catch_up_after_downtime_only_within_the_window(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock) as bot:
        ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        await ana.send("/remind 09:30")  # the clock says 09:00 UTC: both are due later today
        await bo.send("/remind 09:15")
    clock.set(datetime(2026, 11, 24, 11, 20, tzinfo=UTC))  # the bot was down from 09:00 to 11:20
    async with make_bot(clock=clock) as bot:
        await tick(bot)
        rows = {d.user_id: d for d in await deliveries(bot)}
        assert set(rows) == {1001}  # 1h50 late: still sent; Bo's was 2h05 late: next day's instead
        assert (await user_row(bot, 1002)).next_reminder_at == datetime(2026, 11, 25, 9, 15, tzinfo=UTC)
        clock.set(datetime(2026, 11, 25, 9, 16, tzinfo=UTC))
        await tick(bot)
        assert [(d.user_id, d.local_date.day) for d in await deliveries(bot)] == [(1001, 24), (1002, 25)]


async def test_dst_days_fire_once_at_the_right_instant(make_bot: BotFactory) -> None:
    clock = FakeClock(datetime(2027, 3, 27, 12, tzinfo=UTC))
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/timezone Europe/Berlin")
        await user.send("/remind 02:30")  # does not exist on 28 March 2027: fires at 03:00 CEST
        assert (await user_row(bot)).next_reminder_at == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
        clock.set(datetime(2027, 3, 28, 1, 0, 30, tzinfo=UTC))
        assert await tick(bot) == 1
        assert (await user_row(bot)).next_reminder_at == datetime(2027, 3, 29, 0, 30, tzinfo=UTC)
        assert [d.local_date for d in await deliveries(bot)] == [date(2027, 3, 28)]

        clock.set(datetime(2027, 10, 30, 12, tzinfo=UTC))
        await user.send("/remind 02:30")  # happens twice on 31 October 2027: fires once, the first time
        assert (await user_row(bot)).next_reminder_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
        clock.set(datetime(2027, 10, 31, 0, 30, 30, tzinfo=UTC))
        assert await tick(bot) == 1
        clock.set(datetime(2027, 10, 31, 1, 30, 30, tzinfo=UTC))
        assert await tick(bot) == 0
        assert [d.local_date for d in await deliveries(bot)] == [date(2027, 10, 31)]  # March's was pruned


async def test_a_time_zone_change_moves_the_reminder(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/remind 07:30")
        assert (await user_row(bot)).next_reminder_at == datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
        await user.send("/timezone Tokyo")
        assert "Asia/Tokyo" in user.last_text and "07:30 reminder follows it" in user.last_text
        assert (await user_row(bot)).next_reminder_at == datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
        clock.set(datetime(2026, 11, 24, 22, 30, 5, tzinfo=UTC))
        assert await tick(bot) == 1
        assert (await deliveries(bot))[0].local_date == date(2026, 11, 25)


async def test_network_errors_are_retried_and_retry_after_is_honoured(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock) as bot:
        ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        await ana.send("/remind 10:00")
        await bo.send("/remind 10:00")
        bot.fake.fail_next("sendMessage", "network", times=2, chat_id=1001)
        bot.fake.fail_next("sendMessage", "retry_after", retry_after=1, chat_id=1002)  # PTB's limiter waits
        clock.set(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC))
        assert await tick(bot) == 1  # Bo's; Ana's waits for its retry time
        for _ in range(3):
            clock.advance(minutes=1)
            await tick(bot)
        assert {d.status for d in await deliveries(bot)} == {"sent"}
        assert "Time for your back" in ana.last_text and "Time for your back" in bo.last_text
        assert len(bot.fake.messages(1001)) == len(bot.fake.messages(1002)) == 2  # /remind's answer + one


async def test_claims_left_by_a_crash_are_sent_after_a_restart_if_still_in_time(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock) as bot:
        for uid in (1001, 1002, 1003):
            await bot.user(uid).send("/remind 08:00")
        async with bot.db.transaction() as repos:
            repos.session.add_all([
                ReminderDelivery(user_id=1001, local_date=date(2026, 11, 24), due_at=clock.now() - timedelta(minutes=30),
                                 claimed_at=clock.now() - timedelta(minutes=30), status="claimed"),
                ReminderDelivery(user_id=1002, local_date=date(2026, 11, 24), due_at=clock.now() - timedelta(hours=3),
                                 claimed_at=clock.now() - timedelta(hours=3), status="claimed"),
                ReminderDelivery(user_id=1003, local_date=date(2026, 11, 24), due_at=clock.now() - timedelta(minutes=5),
                                 claimed_at=clock.now() - timedelta(minutes=5), status="sending"),
            ])  # fmt: skip
    async with make_bot(clock=clock) as bot:  # the restart: recover() runs at start-up
        assert bot.services.reminders is not None
        assert await bot.services.reminders.drain() == 1
        rows = {d.user_id: d for d in await deliveries(bot)}
        assert (
            rows[1001].status == "sent"
            and rows[1002].status == "failed"
            and "expired" in (rows[1002].error or "")
        )
        assert rows[1003].status == "unknown" and "may have arrived" in (rows[1003].error or "")
        assert "Time for your back" in bot.user(1001).last_text
