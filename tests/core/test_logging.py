"""A dependency failing on every request is reported once a minute, not once a request."""

from typing import Any

from backend.core.logging import OccasionalWarning


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def test_a_repeated_failure_is_logged_once_per_interval() -> None:
    now = [5.0]  # a clock younger than the interval: the first failure is still logged
    warn = OccasionalWarning("cache_unavailable", interval_seconds=60, clock=lambda: now[0])
    logger = Recorder()

    for _ in range(1000):
        warn(logger, ConnectionError("down"), detail="serving from MongoDB")
    now[0] += 61
    warn(logger, TimeoutError())

    assert logger.lines == [
        ("cache_unavailable", {"error": "ConnectionError", "detail": "serving from MongoDB"}),
        ("cache_unavailable", {"error": "TimeoutError"}),
    ]
