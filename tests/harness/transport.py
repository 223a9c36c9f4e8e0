"""In-process transport: PTB's ``BaseRequest`` answered by a ``FakeBotApi`` without any socket."""

from __future__ import annotations

import json
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from tests.harness.fake_api import FakeBotApi, FakeNetworkError


class FakeRequest(BaseRequest):
    """Hands every Bot API call to the fake and returns its JSON answer, as HTTP would."""

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
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                filename, content = part[0], part[1]
                data = content if isinstance(content, bytes) else content.read()
                files[name] = (filename or name, data)
        try:
            status, body = await self.fake.call(api_method, params, files)
        except FakeNetworkError as exc:
            raise NetworkError(str(exc)) from exc
        return status, json.dumps(body).encode()
