"""In-process transport: PTB's ``BaseRequest`` answered by a ``FakeBotApi``, without any socket.

Usage::

    app = (
        Application.builder().token(fake.token)
        .request(FakeRequest(fake)).get_updates_request(FakeRequest(fake))
        .build()
    )

Everything above ``do_request`` is PTB's own code: ``BaseRequest.post`` turns the status and JSON
body into results or exceptions exactly as with HTTP (400 → ``BadRequest``, 403 → ``Forbidden``,
429 → ``RetryAfter``, 401/404 → ``InvalidToken``, 409 → ``Conflict``, others → ``NetworkError``).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import IO, Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from tests.harness.fake_api import FakeBadBody, FakeBotApi, FakeNetworkError


def _content(content: bytes | IO[bytes]) -> bytes:
    return content if isinstance(content, bytes) else content.read()


class FakeRequest(BaseRequest):
    """Hands every Bot API call to the fake and returns its answer as HTTP would.

    Parameters are taken as the python objects PTB built (``RequestData.parameters``); they are also
    JSON-encoded once (and the result discarded) so that anything HTTP could not carry fails here too.
    Files travel as ``{part name: (filename, bytes)}``.
    """

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if method != "POST" or "/file/bot" in url:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return 404, json.dumps(body).encode()  # file downloads are not part of the fake
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None:
            params = dict(request_data.parameters)
            _ = request_data.json_parameters  # what HTTPXRequest would send; raises if not JSON-able
            for name, (filename, content, _mimetype) in request_data.multipart_data.items():
                files[name] = (filename, _content(content))
        try:
            status, body = await self.fake.call(api_method, params, files)
        except FakeBadBody as exc:
            return exc.status, exc.payload
        except FakeNetworkError as exc:
            error = transport_error(exc)
            raise error from error.__cause__
        return status, json.dumps(body).encode()


def transport_error(exc: FakeNetworkError) -> NetworkError:
    """What ``bot.aiohttp_request.AiohttpRequest`` raises for the same failure, with the same cause."""
    cause: aiohttp.ClientError
    if exc.mode == "timeout":
        cause = aiohttp.SocketTimeoutError(f"fake: {exc}")
        error: NetworkError = TimedOut()
    elif exc.mode == "reset":
        cause = aiohttp.ServerDisconnectedError()
        error = NetworkError(f"aiohttp.ServerDisconnectedError: fake network failure: {exc}")
    else:
        key = SimpleNamespace(host="127.0.0.1", port=443, ssl=True)
        cause = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))  # type: ignore[arg-type]
        error = NetworkError(f"aiohttp.ClientConnectorError: fake network failure: {exc}")
    error.__cause__ = cause
    return error


__all__ = ["FakeRequest", "transport_error"]
