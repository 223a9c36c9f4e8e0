"""The Bot API request layer, measured: every call and every failure, by method and kind.

``ObservedRequest`` wraps ``bot.aiohttp_request.AiohttpRequest`` (or, in tests, the fake's ``FakeRequest``) and sees each
HTTP exchange once — every retry of the rate limiter too — before PTB turns it into a result or an
exception.  Kinds of failure: ``429`` (flood control), ``5xx``, ``4xx`` (blocked, bad request, …),
``timeout`` (PTB's ``TimedOut``) and ``network`` (any other transport error).
"""

from __future__ import annotations

import time
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.metrics import ApiErrorKind, Metrics


def api_method(url: str) -> str:
    """``sendMessage`` for ``…/bot<token>/sendMessage``; ``file`` for file downloads (no path in labels)."""
    if "/file/bot" in url:
        return "file"
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def status_kind(status: int) -> ApiErrorKind | None:
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status >= 400:
        return "4xx"
    return None


class ObservedRequest(BaseRequest):
    """A ``BaseRequest`` that records each request in ``metrics`` and otherwise is ``inner``."""

    def __init__(self, inner: BaseRequest, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

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
        name = api_method(url)
        start = time.perf_counter()
        try:
            status, payload = await self.inner.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except TimedOut:
            self.metrics.api_call(name, time.perf_counter() - start, "timeout")
            raise
        except Exception:  # PTB's NetworkError, or anything else the transport raised
            self.metrics.api_call(name, time.perf_counter() - start, "network")
            raise
        self.metrics.api_call(name, time.perf_counter() - start, status_kind(status))
        return status, payload
