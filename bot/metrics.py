"""Prometheus metrics: one ``CollectorRegistry`` per Application, served at ``GET /metrics`` (bot.web).

Every Application gets its own registry (never prometheus-client's global default), so several
applications in one process (tests, benchmarks) do not collide or add up.  The ``Metrics`` object
lives in ``application.bot_data[METRICS_KEY]``; code that has the application records through the small
functions below, which do nothing for an application built without metrics::

    metrics.reminder(app, "sent")            # claimed / sent / failed / unknown / ...
    metrics.sessions_running(app, 12)        # or metrics.track_sessions(app, lambda: len(...))

What is measured where:

- updates handled, by type, and the handlers' latency: ``bot.processor`` (the update processor);
- Bot API calls and errors, by method and kind (429, 5xx, 4xx, network, timeout), and their latency:
  ``bot.observed_request.ObservedRequest``, PTB's request layer;
- webhook requests by answer status: ``bot.web``;
- reminders and guided sessions: ``bot.reminders`` and the session runner, through the functions here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from telegram import Update

disable_created_metrics()  # no "*_created" twin of every series: Prometheus does not need them

METRICS_KEY = "metrics"
"""Where ``build_application`` keeps the application's ``Metrics`` in ``bot_data``."""

ApiErrorKind = Literal["429", "5xx", "4xx", "network", "timeout"]
REMINDER_OUTCOMES = ("claimed", "sent", "failed", "unknown", "retried", "blocked", "rejected", "expired")
"""What ``reminder`` counts; the first four are the ones to watch (and alert on ``failed``/``unknown``)."""

HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
API_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_METHOD = re.compile(r"[A-Za-z]{1,64}")


class Metrics:
    """The bot's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.updates = Counter("backstretch_updates", "Updates handled, by type", ["type"], registry=registry)
        self.update_seconds = Histogram(
            "backstretch_update_handling_seconds",
            "Time the handlers took for one update (not counting its wait behind its chat), by type",
            ["type"],
            buckets=HANDLER_BUCKETS,
            registry=registry,
        )
        self.updates_dropped = Counter(
            "backstretch_updates_dropped",
            "Updates dropped because their chat flooded the bot",
            registry=registry,
        )
        self.webhook_requests = Counter(
            "backstretch_webhook_requests",
            "Webhook requests, by the HTTP status they were answered with",
            ["status"],
            registry=registry,
        )
        self.api_calls = Counter(
            "backstretch_bot_api_calls", "Bot API requests made, by method", ["method"], registry=registry
        )
        self.api_errors = Counter(
            "backstretch_bot_api_errors",
            "Bot API requests that failed, by method and kind (429, 5xx, 4xx, network, timeout)",
            ["method", "kind"],
            registry=registry,
        )
        self.api_seconds = Histogram(
            "backstretch_bot_api_request_seconds",
            "Bot API request latency, by method (getUpdates includes its long poll)",
            ["method"],
            buckets=API_BUCKETS,
            registry=registry,
        )
        self.reminders = Counter(
            "backstretch_reminders", "Reminders, by what happened to them", ["outcome"], registry=registry
        )
        for outcome in REMINDER_OUTCOMES:
            self.reminders.labels(outcome)  # every outcome shows, at 0, from the start
        self.sessions = Gauge(
            "backstretch_sessions_running", "Guided sessions this instance is running", registry=registry
        )
        self._sessions_source: Callable[[], float] = lambda: 0.0
        self.sessions.set_function(lambda: self._sessions_source())

    # --- recording ---------------------------------------------------------------------------------

    @contextmanager
    def handling(self, update: object) -> Iterator[None]:
        """Count one update and time its handlers (used by the update processor)."""
        kind = update_type(update)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.update_seconds.labels(kind).observe(time.perf_counter() - start)
            self.updates.labels(kind).inc()

    def api_call(self, method: str, seconds: float, error: ApiErrorKind | None = None) -> None:
        method = method if _METHOD.fullmatch(method) else "other"
        self.api_calls.labels(method).inc()
        self.api_seconds.labels(method).observe(seconds)
        if error is not None:
            self.api_errors.labels(method, error).inc()

    def reminder(self, outcome: str, count: int = 1) -> None:
        if outcome not in REMINDER_OUTCOMES:
            raise ValueError(f"unknown reminder outcome {outcome!r}; use one of {REMINDER_OUTCOMES}")
        if count:
            self.reminders.labels(outcome).inc(count)

    def track_sessions(self, source: Callable[[], float]) -> None:
        """Read the running sessions from ``source`` at every scrape."""
        self._sessions_source = source

    def exposition(self) -> bytes:
        """Everything, in Prometheus' text format."""
        return generate_latest(self.registry)


def update_type(update: object) -> str:
    """``message``, ``callback_query``, … (``other`` for what is not a Telegram update)."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return str(kind)
        return "unknown"
    return "other"


# --- for code that has the application ---------------------------------------------------------------


def metrics_of(app: Any) -> Metrics | None:
    """The application's metrics, or None (no application, or one built without metrics)."""
    bot_data = getattr(app, "bot_data", None)
    found = bot_data.get(METRICS_KEY) if isinstance(bot_data, dict) else None
    return found if isinstance(found, Metrics) else None


def reminder(app: Any, outcome: str, count: int = 1) -> None:
    """Count ``count`` reminders that were claimed, sent, failed, … (see ``REMINDER_OUTCOMES``)."""
    if outcome not in REMINDER_OUTCOMES:  # a typo fails in tests even without metrics
        raise ValueError(f"unknown reminder outcome {outcome!r}; use one of {REMINDER_OUTCOMES}")
    found = metrics_of(app)
    if found is not None:
        found.reminder(outcome, count)


def sessions_running(app: Any, count: int) -> None:
    """Set the number of guided sessions running on this instance (replaces any tracked source)."""
    found = metrics_of(app)
    if found is not None:
        value = float(count)
        found.track_sessions(lambda: value)


def track_sessions(app: Any, source: Callable[[], float]) -> None:
    """Read the number of guided sessions running from ``source`` at every scrape."""
    found = metrics_of(app)
    if found is not None:
        found.track_sessions(source)
