"""Test harness: a fake Telegram Bot API (in-process and over loopback HTTP) and a conversation client.

- ``FakeBotApi`` (fake_api): answers Bot API calls like Telegram, records what the bot did, injects
  failures.
- ``FakeRequest`` (transport): PTB's ``BaseRequest`` backed by the fake, no sockets.
- ``FakeHttpServer`` (http_server): the same fake over real HTTP, for a bot in a subprocess.
- ``ChatUser`` (client): ``send`` / ``click`` / ``wait_for`` — tests that read like a conversation.
- ``TrackingProcessor`` (tracking): tells ``ChatUser`` when the application finished an update.
"""

from tests.harness.client import ChatUser, command_entities
from tests.harness.fake_api import (
    BOT_USER,
    NOT_MODIFIED,
    ApiError,
    CallbackAnswer,
    FakeBotApi,
    FakeNetworkError,
    Rejection,
    SentMessage,
    TelegramHtmlError,
    check_html,
    parse_html,
)
from tests.harness.http_server import FakeHttpServer
from tests.harness.tracking import TrackingProcessor
from tests.harness.transport import FakeRequest

__all__ = [
    "BOT_USER",
    "NOT_MODIFIED",
    "ApiError",
    "CallbackAnswer",
    "ChatUser",
    "FakeBotApi",
    "FakeHttpServer",
    "FakeNetworkError",
    "FakeRequest",
    "Rejection",
    "SentMessage",
    "TelegramHtmlError",
    "TrackingProcessor",
    "check_html",
    "command_entities",
    "parse_html",
]
