"""The fake Bot API over real loopback HTTP, for tests that start ``python -m bot`` as a process.

::

    async with FakeHttpServer(fake) as server:
        env["TELEGRAM_API_BASE_URL"] = server.base_url      # http://127.0.0.1:PORT/bot

A small HTTP/1.1 server on ``asyncio.start_server`` (no extra dependency): keep-alive, bodies with
Content-Length or chunked transfer encoding, and the three body types PTB's ``HTTPXRequest`` and other
clients use — ``application/x-www-form-urlencoded``, ``application/json`` and ``multipart/form-data``.
PTB sends every parameter as a form field whose value is JSON-encoded unless it is a string
(``RequestData.json_parameters``); ``fake_api.decode_params`` turns them back into ints, bools and
objects.  It runs in the test's event loop, next to the ``FakeBotApi`` it serves.

Like Telegram, ``/bot<wrong token>/...`` answers 401 Unauthorized and other paths 404 Not Found.  A
client that hangs up during a long ``getUpdates`` poll ends that poll, so a killed bot process cannot
swallow updates.

Injected failures on the wire: ``refused`` / ``network`` drop the connection (RST) before the fake
performs the call; ``reset_after`` / ``lost_response`` close it after the call was performed;
``timeout_after`` performs the call and then never answers (the client's read timeout fires);
``invalid_json`` answers 200 with an HTML page.  Over TCP a client cannot tell a reset before the
fake read the request from one after: for a failure the client can *know* was not delivered, use
``refuse_connections(seconds)`` (the listening socket closes: ``ECONNREFUSED``, aiohttp's ``ClientConnectorError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import struct
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.harness.fake_api import FakeBadBody, FakeBotApi, FakeNetworkError, decode_params

MAX_HEADER_LINE = 64 * 1024
_DISPOSITION_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_PERCENT_CONTROL = re.compile(r"%(2[2]|[01][0-9A-Fa-f])")


class HttpError(Exception):
    """A request the server cannot parse: answered with this status, then the connection closes."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        return connection != "close" if self.version == "HTTP/1.1" else connection == "keep-alive"


# ---------------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------------


def _header_param(content_type: str, name: str) -> str | None:
    for key, value in _DISPOSITION_PARAM.findall(";" + content_type.partition(";")[2]):
        if key.lower() == name:
            return _unquote_param(value)
    return None


def _unquote_param(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])  # also undoes httpx's "\\" for a backslash
    # httpx and browsers percent-encode '"' and control characters in names (HTML5 form encoding)
    return _PERCENT_CONTROL.sub(lambda m: chr(int(m.group(1), 16)), value)


def _disposition(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, raw in _DISPOSITION_PARAM.findall(value):
        key = key.lower()
        if key.endswith("*"):  # RFC 5987: filename*=utf-8''%E2%9C%93.txt
            charset, _, encoded = raw.strip().partition("''")
            params[key[:-1]] = unquote(encoded, encoding=charset or "utf-8")
        else:
            params.setdefault(key, _unquote_param(raw))
    return params


def parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Split a multipart/form-data body into fields (str) and files ({name: (filename, bytes)})."""
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    for part in (b"\r\n" + body).split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            raise HttpError(400)
        headers: dict[str, str] = {}
        for line in head.split(b"\r\n"):
            key, _, value = line.decode("utf-8", "replace").partition(":")
            if key.strip():
                headers[key.strip().lower()] = value.strip()
        disposition = _disposition(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            raise HttpError(400)
        if "filename" in disposition:
            files[name] = (disposition["filename"], content)
        else:
            charset = _header_param(headers.get("content-type", ""), "charset") or "utf-8"
            params[name] = content.decode(charset)
    return params, files


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """The parameters and files of a request body, by its Content-Type (form encoding by default)."""
    kind = content_type.partition(";")[0].strip().lower()
    if not body:
        return {}, {}
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise HttpError(400) from None
        if not isinstance(data, dict):
            raise HttpError(400)
        return data, {}
    if kind == "multipart/form-data":
        boundary = _header_param(content_type, "boundary")
        if not boundary:
            raise HttpError(400)
        return parse_multipart(body, boundary)
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), {}


# ---------------------------------------------------------------------------------------------------
# Wire
# ---------------------------------------------------------------------------------------------------


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        raise HttpError(431) from None
    if len(line) > MAX_HEADER_LINE:
        raise HttpError(431)
    return line


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = (await _read_line(reader)).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise HttpError(400) from None
        if size == 0:
            while (await _read_line(reader)).strip():  # trailers
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def read_request(reader: asyncio.StreamReader, first: bytes = b"") -> HttpRequest | None:
    """Read one request; None at a clean end of stream.  ``first`` is a byte already taken off the stream."""
    line = first if first.endswith(b"\n") else first + await reader.readline()
    while line in (b"\r\n", b"\n"):  # tolerated empty lines between requests
        line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400)
    request = HttpRequest(parts[0].upper(), parts[1], parts[2])
    while (header := await _read_line(reader)) not in (b"\r\n", b"\n"):
        key, colon, value = header.decode("latin-1").partition(":")
        if not colon:
            raise HttpError(400)
        request.headers[key.strip().lower()] = value.strip()
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        request.body = await _read_chunked(reader)
    else:
        length = request.headers.get("content-length", "0")
        if not length.isdigit():
            raise HttpError(400)
        request.body = await reader.readexactly(int(length))
    return request


def _response(status: int, body: dict[str, Any], keep_alive: bool) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nServer: fake-telegram-bot-api\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def _raw_response(status: int, payload: bytes, keep_alive: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nServer: fake-telegram-bot-api\r\n"
        f"Content-Type: text/html\r\nContent-Length: {len(payload)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER 0): the peer reads "connection reset"."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


HOLD_SECONDS = 300.0
"""The longest a ``timeout_after`` answer is held back (the client normally gives up long before)."""


def _error(status: int, description: str | None = None) -> dict[str, Any]:
    return {"ok": False, "error_code": status, "description": description or HTTPStatus(status).phrase}


# ---------------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------------


class FakeHttpServer:
    """``async with FakeHttpServer(fake) as server: server.base_url`` → 'http://127.0.0.1:PORT/bot'."""

    def __init__(self, fake: FakeBotApi, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake, self.host, self.port = fake, host, port
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._reopen: asyncio.TimerHandle | None = None
        self._reopening: asyncio.Task[None] | None = None
        self.refused_until = 0.0

    @property
    def base_url(self) -> str:
        """What PTB's ``ApplicationBuilder.base_url`` (or ``TELEGRAM_API_BASE_URL``) wants."""
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_HEADER_LINE + 2
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def refuse_connections(self, seconds: float) -> None:
        """For ``seconds``: the listening socket is closed (new connections are refused) and open ones
        are reset, so every request in that window certainly never reached the fake. Returns at once;
        the server listens again on the same port afterwards."""
        if self._server is None:
            return
        loop = asyncio.get_running_loop()
        self.refused_until = loop.time() + seconds
        self._server.close()
        self._server = None
        open_connections = list(self._connections.items())
        for task, writer in open_connections:
            _reset(writer)
            task.cancel()
        if open_connections:  # the sockets are really closed once their tasks have ended
            await asyncio.wait([task for task, _ in open_connections], timeout=5)
        await asyncio.sleep(0)

        def reopen() -> None:
            self._reopen = None
            self._reopening = loop.create_task(self.start())

        self._reopen = loop.call_later(seconds, reopen)

    async def close(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        if self._server is None:
            return
        self._server.close()
        for task, writer in list(self._connections.items()):
            writer.close()
            task.cancel()  # e.g. a long poll still waiting inside the fake
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)
        await self._server.wait_closed()
        self._server = None

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every client connection has been closed (by the client, or by the server)."""
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=timeout)

    async def __aenter__(self) -> FakeHttpServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        carry = b""
        try:
            while True:
                try:
                    request = await read_request(reader, carry)
                except HttpError as exc:
                    writer.write(_response(exc.status, _error(exc.status), keep_alive=False))
                    await writer.drain()
                    return
                if request is None:
                    return
                self.requests += 1
                try:
                    outcome = await self._answer(request, reader)
                except HttpError as exc:
                    outcome = (exc.status, _error(exc.status), b"")
                if outcome is None:  # an injected network failure, or the client hung up
                    return
                if outcome == "reset":
                    _reset(writer)
                    return
                status, body, carry = outcome
                if isinstance(body, bytes):
                    writer.write(_raw_response(status, body, request.keep_alive))
                else:
                    writer.write(_response(status, body, request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # a client or the test shutting down mid-request: end quietly
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _answer(
        self, request: HttpRequest, reader: asyncio.StreamReader
    ) -> tuple[int, dict[str, Any] | bytes, bytes] | str | None:
        url = urlsplit(request.target)
        prefix = f"/bot{self.fake.token}/"
        if not url.path.startswith(prefix):
            status = 401 if url.path.startswith("/bot") and url.path.count("/") >= 2 else 404
            return status, _error(status), b""
        if request.method not in ("GET", "POST"):
            return 405, _error(405), b""
        method = url.path[len(prefix) :].strip("/")
        params, files = parse_body(request.headers.get("content-type", ""), request.body)
        params = decode_params({**dict(parse_qsl(url.query, keep_blank_values=True)), **params})
        call = asyncio.ensure_future(self.fake.call(method, params, files))
        carry = b""
        if method.lower() == "getupdates":
            # A long poll: notice a client that hangs up (its bot was stopped or killed) and end the poll.
            hang_up = asyncio.ensure_future(reader.read(1))
            try:
                await asyncio.wait({call, hang_up}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:  # the server is closing: asyncio.wait does not cancel them
                call.cancel()
                hang_up.cancel()
                raise
            if not hang_up.done():
                hang_up.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await hang_up
            elif not hang_up.result():
                call.cancel()
                with contextlib.suppress(asyncio.CancelledError, FakeNetworkError):
                    await call
                return None
            else:
                carry = hang_up.result()  # the start of a pipelined request
        try:
            status, body = await call
        except FakeBadBody as exc:
            return exc.status, exc.payload, carry
        except FakeNetworkError as exc:
            if exc.mode == "refused":
                return "reset"
            if exc.mode == "timeout":  # performed; the answer never comes: wait for the client to give up
                with contextlib.suppress(TimeoutError, ConnectionError):
                    await asyncio.wait_for(reader.read(1), timeout=HOLD_SECONDS)
            return None
        return status, body, carry


__all__ = ["FakeHttpServer", "parse_body", "parse_multipart", "read_request"]
