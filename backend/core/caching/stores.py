"""Where cached values live: Redis (shared by every process), or one process's memory without it.

`QuietStore` puts either behind the rule every cache user follows: Redis failing never fails a
request (the cache is an optimisation; access never depends on it), it answers a fallback and a
warning is logged at most once a minute.
"""

import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

import structlog
from redis.exceptions import RedisError

from backend.core.caching.batches import TurnBatches
from backend.core.caching.mirror import KeyMirror
from backend.core.logging import OccasionalWarning
from backend.core.metrics import REDIS_CACHE_SECONDS
from backend.core.storage.redis import RedisClient

log = structlog.get_logger(__name__)
T = TypeVar("T")


class CacheStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def mget(self, keys: list[str]) -> list[bytes | None]: ...
    async def set(self, key: str, value: bytes, ttl: int) -> None: ...
    async def set_many(self, items: dict[str, bytes], ttl: int) -> None: ...
    async def incr(self, key: str) -> int: ...
    async def bump(self, counters: list[str], tokens: dict[str, bytes], ttl: int) -> None: ...
    async def delete(self, key: str) -> None: ...


class RedisStore:
    """Redis, with the values of the keys `mirror` follows read from the process while it knows them.

    Reads (`get`, `mget`) and `set`s asked for in one turn of the event loop go to Redis together: an
    `MGET` of all their keys, a pipeline of all the `SET`s (batches.py).
    """

    def __init__(self, redis: RedisClient, mirror: KeyMirror | None = None) -> None:
        self._redis = redis
        self._mirror = mirror
        self._reads: TurnBatches[list[str], list[bytes | None]] = TurnBatches(self._read_all)
        self._stores: TurnBatches[tuple[str, bytes, int], None] = TurnBatches(self._store_all)

    async def get(self, key: str) -> bytes | None:
        return (await self.mget([key]))[0]

    async def mget(self, keys: list[str]) -> list[bytes | None]:
        mirror = self._mirror
        if mirror is None:
            with REDIS_CACHE_SECONDS.time():
                return await self._reads(keys)
        known, missing, epoch = mirror.split(keys)
        if missing:  # only these cost a round trip; the process follows the rest
            with REDIS_CACHE_SECONDS.time():
                values = await self._reads(missing)
            known.update(mirror.learn(missing, values, epoch))
        return [known[key] for key in keys]

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        try:
            with REDIS_CACHE_SECONDS.time():
                await self._stores((key, value, ttl))
        finally:
            self._wrote(key)

    async def _read_all(self, reads: list[list[str]]) -> list[list[bytes | None]]:
        values = [_as_bytes(v) for v in await self._redis.mget([key for keys in reads for key in keys])]
        answers, start = [], 0
        for keys in reads:
            answers.append(values[start : start + len(keys)])
            start += len(keys)
        return answers

    async def _store_all(self, stores: list[tuple[str, bytes, int]]) -> list[None]:
        if len(stores) == 1:  # a pipeline of one costs more than the command
            key, value, ttl = stores[0]
            await self._redis.set(key, value, ex=ttl)
        else:
            async with self._redis.pipeline(transaction=False) as pipeline:
                for key, value, ttl in stores:
                    pipeline.set(key, value, ex=ttl)
                await pipeline.execute()
        return [None] * len(stores)

    async def set_many(self, items: dict[str, bytes], ttl: int) -> None:
        """In one round trip."""
        try:
            with REDIS_CACHE_SECONDS.time():
                await self._store_all([(key, value, ttl) for key, value in items.items()])
        finally:
            for key in items:
                self._wrote(key)

    async def incr(self, key: str) -> int:
        try:
            with REDIS_CACHE_SECONDS.time():
                return int(await self._redis.incr(key))
        finally:
            self._wrote(key)

    async def bump(self, counters: list[str], tokens: dict[str, bytes], ttl: int) -> None:
        """INCR each counter and set each token (living `ttl`), in one round trip."""
        try:
            with REDIS_CACHE_SECONDS.time():
                async with self._redis.pipeline(transaction=False) as pipeline:
                    for key in counters:
                        pipeline.incr(key)
                    for key, value in tokens.items():
                        pipeline.set(key, value, ex=ttl)
                    await pipeline.execute()
        finally:
            for key in [*counters, *tokens]:
                self._wrote(key)

    async def delete(self, key: str) -> None:
        try:
            with REDIS_CACHE_SECONDS.time():
                await self._redis.delete(key)
        finally:
            self._wrote(key)

    def _wrote(self, key: str) -> None:
        # After the write (or its failure): a read that raced it is not kept, and this process's next
        # read of the key goes to Redis, so it sees its own write before Redis's message arrives. Only
        # for the keys the mirror follows: each forget moves its epoch, which discards every read in
        # flight (storing answers, 32 misses at once kept the generations from ever being kept).
        if self._mirror is not None and self._mirror.tracks(key):
            self._mirror.forget(key)


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


class MemoryStore:
    """One process's cache, for running without Redis. Expired entries go when next touched."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}
        self._max = max_entries

    async def get(self, key: str) -> bytes | None:
        found = self._data.get(key)
        if found is None:
            return None
        expires, value = found
        if expires < time.monotonic():
            del self._data[key]
            return None
        return value

    async def mget(self, keys: list[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        if len(self._data) >= self._max:
            self._data.pop(next(iter(self._data)))  # the oldest insertion
        self._data[key] = (time.monotonic() + ttl, value)

    async def set_many(self, items: dict[str, bytes], ttl: int) -> None:
        for key, value in items.items():
            await self.set(key, value, ttl)

    async def incr(self, key: str) -> int:
        current = int(await self.get(key) or b"0") + 1
        self._data[key] = (float("inf"), str(current).encode())
        return current

    async def bump(self, counters: list[str], tokens: dict[str, bytes], ttl: int) -> None:
        for key in counters:
            await self.incr(key)
        for key, value in tokens.items():
            await self.set(key, value, ttl)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class QuietStore:
    """A store whose failures answer a fallback instead of failing the request."""

    def __init__(self, store: CacheStore) -> None:
        self.store = store
        self._unavailable = OccasionalWarning("cache_unavailable")

    async def run(self, operation: Awaitable[T], fallback: T) -> T:
        try:
            return await operation
        except (RedisError, OSError) as exc:
            self._unavailable(log, exc, detail="serving from MongoDB")
            return fallback
