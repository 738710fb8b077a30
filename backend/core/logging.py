"""Structured logs: one JSON object per line on stdout, for our loggers and the libraries' alike.

Our own loggers render straight to stdout through structlog's filtering logger; only the libraries'
records go through the stdlib `logging` bridge. The bridge costs a LogRecord and a second pass
through the processors, which for the access log was a quarter of a health check (benchmarks/).
"""

import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import structlog

from backend.core.metrics import DEPENDENCY_ERRORS


class OccasionalWarning:
    """A warning logged at most once per interval: a dependency that fails for every request is
    reported, not repeated thousands of times a second."""

    def __init__(
        self, event: str, interval_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._event = event
        self._interval = interval_seconds
        self._clock = clock
        self._last = -interval_seconds  # the first one is logged, however young the clock

    def __call__(self, logger: Any, exc: BaseException, **fields: Any) -> None:
        DEPENDENCY_ERRORS.labels(self._event).inc()  # every failure counts; only the log is thinned
        now = self._clock()
        if now - self._last > self._interval:
            self._last = now
            logger.warning(self._event, error=type(exc).__name__, **fields)


# Keys whose values never reach a log line, whatever logs them.
_SECRET_KEYS = ("password", "secret", "token", "authorization", "cookie")


@cache
def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_KEYS)


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event:
        if _is_secret(key):
            event[key] = "[redacted]"
    return event


def _dumps(event: Any, **options: Any) -> str:
    # orjson: a third of the standard library's time for the line every request writes. Datetimes
    # in UTC end in "Z", as structlog's own ISO stamps do.
    return orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z, **options).decode()


def stamp_utc(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The time, as `TimeStamper(fmt="iso", utc=True)` writes it, but formatted by orjson along with
    the line: 4% of a cache hit less, on every request (benchmarks/README.md, fourth pass)."""
    event["timestamp"] = datetime.now(UTC)
    return event


class StdoutLogger:
    """Writes each rendered line to whatever `sys.stdout` is at the time, so captured output (tests,
    tools) sees it; `name` is what `add_logger_name` reports."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def msg(self, message: str) -> None:
        stream = sys.stdout
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stdlib twin of StdoutLogger, for the libraries' records."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


ACCESS_LOGGER = "tasklane.http"  # the name of the line each request writes, and of its errors

# The access log's logger, made when logging is configured. A module's `structlog.get_logger()` is a
# proxy that builds a new logger on every call (configuring again must reach it: tests and tools
# configure per app): 3% of a cache hit for the one line every request writes.
_access_log: structlog.typing.FilteringBoundLogger | None = None


def access_log() -> structlog.typing.FilteringBoundLogger:
    """The logger of the line each request writes, as `configure_logging` last made it; before
    that, structlog's proxy, as whatever configured structlog would have it."""
    if _access_log is None:
        proxy: structlog.typing.FilteringBoundLogger = structlog.get_logger(ACCESS_LOGGER)
        return proxy
    return _access_log


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    global _access_log
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        stamp_utc if json else structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps) if json else structlog.dev.ConsoleRenderer()
    )
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=StdoutLogger,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=False,
    )
    _access_log = structlog.get_logger(ACCESS_LOGGER).bind()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric_level)
    # uvicorn's own access log would duplicate our one line per request.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
