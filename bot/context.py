"""The services every handler needs, handed over through a typed ``CallbackContext``.

PTB's own way (see its ``contexttypesbot.py`` example) to give handlers the repositories, the clock
and the catalogue without globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Settings
from content.catalogue import Catalogue
from content.lookup import ExerciseIndex
from storage.db import Database

if TYPE_CHECKING:
    from bot.instances import Instances
    from bot.media import ExercisePictures
    from bot.reminders import ReminderService
    from bot.runner import SessionRunner

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    db: Database
    catalogue: Catalogue
    clock: Clock
    index: ExerciseIndex = field(init=False)
    runner: SessionRunner | None = None
    reminders: ReminderService | None = None
    pictures: ExercisePictures | None = None
    """Exercise pictures (issue 13): set by ``build_application``; None sends text only."""
    instances: Instances | None = None
    """This instance's part of the broadcast budget (``bot.instances``): set by ``build_application``."""

    def __post_init__(self) -> None:
        self.index = ExerciseIndex(self.catalogue)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """A CallbackContext with the bot's services attached."""

    @property
    def services(self) -> Services:
        return services_of(self.application)


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    services: Services = application.bot_data[SERVICES_KEY]
    return services
