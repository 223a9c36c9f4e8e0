"""Backstretch: the Telegram application (handlers, the session runner, reminders, rendering)."""
