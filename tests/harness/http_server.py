"""The fake Bot API over real loopback HTTP, for tests that start ``python -m bot`` as a process."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from tests.harness.fake_api import FakeBotApi, FakeNetworkError


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Form, JSON and multipart bodies as PTB's HTTPXRequest sends them."""
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}, {}
    if kind == "application/json":
        return json.loads(body), {}
    if kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[str(name)] = (filename, payload)
            else:
                params[str(name)] = payload.decode()
        return params, files
    return dict(parse_qsl(body.decode(), keep_blank_values=True)), {}


class FakeHttpServer:
    """``async with FakeHttpServer(fake) as server: server.base_url`` → 'http://127.0.0.1:PORT/bot'."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeHttpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()  # the connection's loop sees end-of-stream and returns
        for task in list(self._connections):
            task.cancel()  # a long-poll still waiting inside the fake
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                _, path, _ = request_line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = line.decode().partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, answer = await self._answer(path, headers.get("content-type", ""), body)
                if status is None:  # an injected network failure: drop the connection
                    return
                data = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # a test server shutting down mid long-poll: end quietly
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, path: str, content_type: str, body: bytes) -> tuple[int | None, dict[str, Any]]:
        prefix = f"/bot{self.fake.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params, files = parse_body(content_type, body)
        try:
            return await self.fake.call(path[len(prefix) :].split("?")[0], params, files)
        except FakeNetworkError:
            return None, {}
