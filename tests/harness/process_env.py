"""The environment of a ``python -m bot`` process started by a test or a benchmark."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWN_SETTINGS = ("TELEGRAM_", "DATABASE_", "WEBHOOK_", "TIMER_SCALE")
"""Settings of the bot that this machine's environment must not slip into a process under test."""


def process_env(**settings: str) -> dict[str, str]:
    """This machine's environment without the bot's own settings, the project on PYTHONPATH, INFO logs,
    then ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    env.update(PYTHONPATH=str(ROOT), LOG_LEVEL="INFO")
    env.update(settings)
    return env
