"""Readiness: each dependency pinged concurrently with a short timeout."""

import asyncio
import time
from collections.abc import Awaitable, Callable

from backend.core.db import Mongo, ping
from backend.core.redis import RedisClient
from backend.health.errors import DependencyUnavailable
from backend.health.schemas import DependencyCheck, Readiness

Probe = Callable[[], Awaitable[object]]


class HealthService:
    def __init__(self, mongo: Mongo, redis: RedisClient, timeout_seconds: float) -> None:
        self._probes: dict[str, Probe] = {
            "mongodb": lambda: ping(mongo.database),
            "redis": redis.ping,
        }
        self._timeout = timeout_seconds

    async def readiness(self) -> Readiness:
        names = list(self._probes)
        results = await asyncio.gather(*(self._check(self._probes[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        # Without MongoDB nothing works; without Redis the API still answers (degraded).
        if checks["mongodb"].status != "ok":
            raise DependencyUnavailable(
                "Unavailable: mongodb.", checks={name: check.model_dump() for name, check in checks.items()}
            )
        return Readiness(status="ok" if checks["redis"].status == "ok" else "degraded", checks=checks)

    async def _check(self, probe: Probe) -> DependencyCheck:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(probe(), timeout=self._timeout)
        except TimeoutError:
            return DependencyCheck(status="unavailable", latency_ms=self._timeout * 1000, error="timed out")
        except (
            Exception
        ) as exc:  # any driver failure means not ready; its text may hold hosts, so only the type
            return DependencyCheck(
                status="unavailable", latency_ms=_ms_since(started), error=type(exc).__name__
            )
        return DependencyCheck(status="ok", latency_ms=_ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
