"""Backstretch: the Telegram application (handlers, the session runner, reminders, rendering)."""

import os

# Opt in to python-telegram-bot's timedelta durations now (RetryAfter.retry_after and friends);
# the code handles both, and this silences the deprecation warning of the old float form.
os.environ.setdefault("PTB_TIMEDELTA", "1")
