"""Readiness: each dependency pinged concurrently with a short timeout."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pymongo.errors import PyMongoError

from backend.core.storage.db import Mongo, ping
from backend.core.storage.indexes import check
from backend.core.storage.redis import RedisClient
from backend.documents import DOCUMENT_MODELS
from backend.health.errors import DependencyUnavailable, MigrationsPending
from backend.health.schemas import DependencyCheck, Readiness
from backend.migrations.runner import pending

Probe = Callable[[], Awaitable[object]]
INDEX_CHECK_SECONDS = 60.0


@dataclass
class IndexReport:
    """The last index check of this process (kept on app.state; a service lives one request)."""

    checked_at: float = float("-inf")
    missing: list[str] = field(default_factory=list)


class HealthService:
    def __init__(
        self,
        mongo: Mongo,
        redis: RedisClient,
        timeout_seconds: float,
        report: IndexReport,
        *,
        redis_in_memory: bool,
    ) -> None:
        self._probes: dict[str, Probe] = {
            "mongodb": lambda: ping(mongo.database),
            "redis": redis.ping,
        }
        self._timeout = timeout_seconds
        self._database = mongo.database
        self._report = report
        self._in_memory = [
            name
            for name, in_memory in (("mongodb", mongo.in_memory), ("redis", redis_in_memory))
            if in_memory
        ]

    async def readiness(self) -> Readiness:
        names = list(self._probes)
        results = await asyncio.gather(*(self._check(self._probes[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        # Without MongoDB nothing works; without Redis the API still answers (degraded).
        if checks["mongodb"].status != "ok":
            raise DependencyUnavailable(
                "Unavailable: mongodb.", checks={name: check.model_dump() for name, check in checks.items()}
            )
        waiting = await pending(self._database)
        if waiting:
            names = [f"{m.version:04d}_{m.name}" for m in waiting]
            raise MigrationsPending(f"Pending: {', '.join(names)}; run `tasklane migrate up`.", pending=names)
        missing = await self._missing_indexes()
        degraded = checks["redis"].status != "ok" or bool(missing) or bool(self._in_memory)
        return Readiness(
            status="degraded" if degraded else "ok",
            checks=checks,
            missing_indexes=missing,
            in_memory=self._in_memory,
        )

    async def _missing_indexes(self) -> list[str]:
        """Declared indexes absent from the server; listed at most once a minute per process."""
        now = time.monotonic()
        if now - self._report.checked_at > INDEX_CHECK_SECONDS:
            try:
                drift = await asyncio.wait_for(check(self._database, DOCUMENT_MODELS), timeout=self._timeout)
            except (TimeoutError, PyMongoError):
                return []  # unknown is not missing; the ping above already speaks for MongoDB
            self._report.checked_at = now
            self._report.missing = sorted(f"{s.collection}.{s.name}" for s in drift.missing)
        return self._report.missing

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
