"""Metrics for Prometheus: requests (a count per route template, method and status class, and a
latency histogram per route template and method), MongoDB commands and connections, dependency
failures, cache hits, rate-limit refusals, open streams and worker memory.

Recorded by the request middleware from the route that answered (`scope["route"]`), instead of
matching the path against every route again as a generic instrumentator must.
"""

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from pymongo import monitoring
from starlette.types import Scope

# A client can send any method token; labels stay bounded.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "none"


def handler_of(scope: Scope) -> str:
    """The template of the route that answered (`/api/v1/projects/{project_id}`), or `none`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "http_requests", "Requests answered.", ("handler", "method", "status"), registry=registry
        )
        self._latency = Histogram(
            "http_request_duration_seconds",
            "Time from the request to the end of the response.",
            ("handler", "method"),
            registry=registry,
        )
        # Label lookups take a lock and a dict each; the children are kept per label set instead.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, handler: str, method: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "other"
        key = (handler, method, status // 100)
        children = self._children.get(key)
        if children is None:
            children = (
                self._requests.labels(handler, method, f"{status // 100}xx"),
                self._latency.labels(handler, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


# -- the process's own series: one set per process, shared by the apps in it (tests make many) --
#
# Under `tasklane serve --workers N`, PROMETHEUS_MULTIPROC_DIR is set before any worker imports
# prometheus_client: every value then lives in files the workers share, and /metrics adds them up
# (counters and histograms summed, the gauges below as noted), so a scrape never sees a "reset"
# because another worker answered it.

PROCESS = CollectorRegistry()

MONGODB_COMMAND_SECONDS = Histogram(
    "tasklane_mongodb_command_duration_seconds",
    "MongoDB commands sent by the API, by command name.",
    ("command",),
    registry=PROCESS,
)
MONGODB_COMMAND_ERRORS = Counter(
    "tasklane_mongodb_command_errors",
    "MongoDB commands that failed, by command name and error code name.",
    ("command", "error"),
    registry=PROCESS,
)
MONGODB_POOL_CHECKED_OUT = Gauge(
    "tasklane_mongodb_pool_checked_out_connections",
    "MongoDB connections in use (summed over live workers).",
    registry=PROCESS,
    multiprocess_mode="livesum",
)
REDIS_SECONDS = Histogram(
    "tasklane_redis_call_duration_seconds",
    "Round trips to Redis, by component (cache, rate_limiter); failures included.",
    ("component",),
    registry=PROCESS,
)
REDIS_CACHE_SECONDS, REDIS_LIMITER_SECONDS = (
    REDIS_SECONDS.labels("cache"),
    REDIS_SECONDS.labels("rate_limiter"),
)
DEPENDENCY_ERRORS = Counter(
    "tasklane_dependency_errors",
    "Failures of Redis or MongoDB that the API worked around or answered 503 for, by event "
    "(cache_unavailable, rate_limiter_unavailable, key_mirror_unavailable, access_feed_unavailable, "
    "mongodb_unavailable).",
    ("event",),
    registry=PROCESS,
)
CACHE_LOOKUPS = Counter(
    "tasklane_cache_lookups", "Cached reads, by result (hit or miss).", ("result",), registry=PROCESS
)
RATE_LIMITED = Counter(
    "tasklane_rate_limited_requests",
    "Requests refused with 429, by bucket (api, login-ip, login-email).",
    ("bucket",),
    registry=PROCESS,
)
OPEN_STREAMS = Gauge(
    "tasklane_open_streams",
    "Open event streams (summed over live workers).",
    registry=PROCESS,
    multiprocess_mode="livesum",
)
WORKER_RESIDENT_BYTES = Gauge(
    "tasklane_worker_resident_memory_bytes",
    "Resident memory of each worker process (a `pid` label when several).",
    registry=PROCESS,
    multiprocess_mode="all",
)
CACHE_HIT, CACHE_MISS = CACHE_LOOKUPS.labels("hit"), CACHE_LOOKUPS.labels("miss")


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition(app_registry: CollectorRegistry) -> bytes:
    """What /metrics answers: every worker's series added up, or this process's own."""
    if multiprocess():
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return generate_latest(combined)
    return generate_latest(app_registry) + generate_latest(PROCESS)


def record_resident_memory() -> None:
    """This worker's resident set size, from /proc (Linux); nothing elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return
    WORKER_RESIDENT_BYTES.set(pages * os.sysconf("SC_PAGE_SIZE"))


def worker_exited() -> None:
    """Drop this worker's live gauges from the shared files (multiprocess mode)."""
    if multiprocess():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class MongoCommandMetrics(monitoring.CommandListener, monitoring.ConnectionPoolListener):
    """Latency and errors of every MongoDB command, and the connections in use."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        MONGODB_COMMAND_SECONDS.labels(event.command_name).observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        MONGODB_COMMAND_SECONDS.labels(event.command_name).observe(event.duration_micros / 1e6)
        code = event.failure.get("codeName", "unknown") if isinstance(event.failure, dict) else "unknown"
        MONGODB_COMMAND_ERRORS.labels(event.command_name, str(code)).inc()

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        MONGODB_POOL_CHECKED_OUT.inc()

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        MONGODB_POOL_CHECKED_OUT.dec()

    # The rest of the pool's events change nothing counted here.
    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        pass

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        pass

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        pass

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        pass

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        pass

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        pass

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        pass

    def connection_check_out_started(self, event: monitoring.ConnectionCheckOutStartedEvent) -> None:
        pass

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        pass
