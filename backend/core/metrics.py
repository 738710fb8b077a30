"""Request metrics for Prometheus: a count per route template, method and status class, and a
latency histogram per route template and method.

Recorded by the request middleware from the route that answered (`scope["route"]`), instead of
matching the path against every route again as a generic instrumentator must.
"""

from prometheus_client import CollectorRegistry, Counter, Histogram
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
