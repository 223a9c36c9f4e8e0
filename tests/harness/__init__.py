"""Test harness: a fake Telegram Bot API (in-process and over loopback HTTP) and a conversation client."""

from tests.harness.client import ChatUser
from tests.harness.fake_api import FakeBotApi, FakeNetworkError, SentMessage, check_html
from tests.harness.http_server import FakeHttpServer
from tests.harness.transport import FakeRequest

__all__ = [
    "ChatUser",
    "FakeBotApi",
    "FakeHttpServer",
    "FakeNetworkError",
    "FakeRequest",
    "SentMessage",
    "check_html",
]
