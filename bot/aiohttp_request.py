"""PTB's request interface on aiohttp's client: the same answers and errors as ``HTTPXRequest``, for
a fraction of the CPU.

Measured against a loopback server (issue 12): httpx costs about 1.2 ms of CPU per Bot API call alone,
and 2.5 ms with 30 calls in flight, because its connection pool checks every idle connection's socket
on every request. That was the largest single cost of an update. aiohttp's client (aiohttp already
serves the webhook) keeps idle connections in a queue and costs a fraction of that.

PTB's contract (``telegram.request.BaseRequest.do_request``): return the HTTP status and body; raise
``TimedOut`` for a timeout (connecting, waiting for a free connection or reading the answer) and
``NetworkError`` for anything else on the way. Parameters go form-encoded, or as multipart form data
when there are files, exactly as ``HTTPXRequest`` sends them.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT = 5.0
"""Seconds, as ``HTTPXRequest``'s defaults (connect, read, write, pool)."""
MEDIA_WRITE_TIMEOUT = 20.0
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """One ``aiohttp.ClientSession`` with at most ``connection_pool_size`` connections."""

    def __init__(
        self,
        connection_pool_size: int = 8,
        *,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, skip_auto_headers=("Accept",)
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(self, read: Any, write: Any, connect: Any, pool: Any, files: bool) -> aiohttp.ClientTimeout:
        """PTB's four timeouts in aiohttp's terms: waiting for a connection from the pool and opening it
        (``connect``), opening the socket (``sock_connect``), and any one read of the answer
        (``sock_read``; PTB's write timeout has no counterpart, so it bounds the read after a large
        upload too)."""
        read = self._read_timeout if isinstance(read, DefaultValue) else read
        connect = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        if files:
            write = self._media_write_timeout if isinstance(write, DefaultValue) else write
            read = None if read is None or write is None else max(read, write)
        waiting = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect, sock_read=read)

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
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        body: Any = None
        headers: dict[str, str] | None = None
        if files:
            assert request_data is not None
            form = aiohttp.FormData(quote_fields=False)
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, part in files.items():
                if isinstance(part, tuple):
                    filename, content, *mime = part
                    form.add_field(name, content, filename=filename, content_type=mime[0] if mime else None)
                else:
                    form.add_field(name, part, filename=name)
            body = form
        elif request_data is not None and request_data.parameters:
            # form-encoded, exactly as HTTPXRequest sends it (encoded here: aiohttp would build a
            # multipart writer, with a random boundary, only to find there is no file)
            body = request_data.url_encoded_parameters().encode()
            headers = FORM
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout, bool(files))
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
