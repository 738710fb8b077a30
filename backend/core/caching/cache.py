"""Response caching with O(1) invalidation.

Entries are keyed by everything that changes the answer: the caller's access scope, the path, the
normalised query and the project's generation. A write in a project bumps its generation with one
INCR, which makes all of the project's entries unreachable at once; nothing scans keys. Concurrent
misses of one key in a process compute once. When Redis fails, the cache steps aside: answers come
from MongoDB, and a warning is logged at most once a minute.
"""

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from redis.exceptions import RedisError

from backend.core.caching.mirror import KeyMirror
from backend.core.logging import OccasionalWarning
from backend.core.metrics import CACHE_HIT, CACHE_MISS, REDIS_CACHE_SECONDS
from backend.core.storage.redis import RedisClient

log = structlog.get_logger(__name__)

# What this request has already read from the backend (the rate limiter's script brings a cached
# read's generation; a look at an entry that found nothing is noted too),
# so the route does not ask again. Only GETs of cached reads set it, and they change none of it.
_already_read: ContextVar[dict[str, bytes | None] | None] = ContextVar("already_read", default=None)


def remember_reads(values: dict[str, bytes | None]) -> Token[dict[str, bytes | None] | None]:
    return _already_read.set(values)


def forget_reads(token: Token[dict[str, bytes | None] | None]) -> None:
    _already_read.reset(token)


class CacheBackend(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def mget(self, keys: list[str]) -> list[bytes | None]: ...
    async def set(self, key: str, value: bytes, ttl: int) -> None: ...
    async def incr(self, key: str) -> int: ...
    async def delete(self, key: str) -> None: ...


class RedisBackend:
    """Redis, with the values of the keys `mirror` follows read from the process while it knows them."""

    def __init__(self, redis: RedisClient, mirror: KeyMirror | None = None) -> None:
        self._redis = redis
        self._mirror = mirror

    async def get(self, key: str) -> bytes | None:
        return (await self.mget([key]))[0]

    async def mget(self, keys: list[str]) -> list[bytes | None]:
        mirror = self._mirror
        if mirror is None:
            with REDIS_CACHE_SECONDS.time():
                return [_as_bytes(v) for v in await self._redis.mget(keys)]
        known, missing, epoch = mirror.split(keys)
        if missing:  # only these cost a round trip; the process follows the rest
            with REDIS_CACHE_SECONDS.time():
                values = [_as_bytes(v) for v in await self._redis.mget(missing)]
            known.update(mirror.learn(missing, values, epoch))
        return [known[key] for key in keys]

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        try:
            with REDIS_CACHE_SECONDS.time():
                await self._redis.set(key, value, ex=ttl)
        finally:
            self._wrote(key)

    async def incr(self, key: str) -> int:
        try:
            with REDIS_CACHE_SECONDS.time():
                return int(await self._redis.incr(key))
        finally:
            self._wrote(key)

    async def delete(self, key: str) -> None:
        try:
            with REDIS_CACHE_SECONDS.time():
                await self._redis.delete(key)
        finally:
            self._wrote(key)

    def _wrote(self, key: str) -> None:
        # After the write (or its failure): a read that raced it is not kept, and this process's next
        # read of the key goes to Redis, so it sees its own write before Redis's message arrives.
        if self._mirror is not None:
            self._mirror.forget(key)


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


class MemoryBackend:
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

    async def incr(self, key: str) -> int:
        current = int(await self.get(key) or b"0") + 1
        self._data[key] = (float("inf"), str(current).encode())
        return current

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


@dataclass(frozen=True)
class CachedResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def dump(self) -> bytes:
        head = json.dumps({"s": self.status, "h": self.headers}).encode()
        return len(head).to_bytes(4, "big") + head + self.body

    @classmethod
    def load(cls, raw: bytes) -> "CachedResponse":
        size = int.from_bytes(raw[:4], "big")
        head = json.loads(raw[4 : 4 + size])
        return cls(status=int(head["s"]), headers=dict(head["h"]), body=raw[4 + size :])


class RecentValues:
    """Decoded values of keys whose content never changes (they embed a generation), kept a few
    seconds in process: a hot key is fetched and decoded once per lifetime, not once per request.

    Bounded by the bytes the values were read from; oldest first out.
    """

    def __init__(
        self, lifetime_seconds: float, max_bytes: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._items: OrderedDict[str, tuple[float, int, Any]] = OrderedDict()
        self._clock = clock
        self._lifetime = lifetime_seconds
        self._max_bytes = max_bytes
        self._bytes = 0

    def get(self, key: str) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < self._clock():
            self._drop(key)
            return None
        return item[2]

    def put(self, key: str, value: Any, size: int) -> None:
        if size > self._max_bytes // 16:
            return  # one large value must not push out many small ones
        self._drop(key)
        self._items[key] = (self._clock() + self._lifetime, size, value)
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, (_, dropped, _) = self._items.popitem(last=False)
            self._bytes -= dropped

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def _drop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= item[1]


class ResponseCache:
    RECENT_SECONDS = 5.0  # staleness this adds to the TTL's, for what generations do not cover (names)
    RECENT_BYTES = 16 * 1024 * 1024
    DECODED_ENTRIES = 4096
    DECODED_MAX_BYTES = 2048

    def __init__(self, backend: CacheBackend, ttl_seconds: int, *, enabled: bool = True) -> None:
        self._backend = backend
        self._ttl = ttl_seconds
        self._enabled = enabled
        self._recent = RecentValues(self.RECENT_SECONDS, self.RECENT_BYTES)
        self._decoded: dict[bytes, Any] = {}
        self._inflight: dict[str, asyncio.Future[CachedResponse]] = {}
        self._unavailable = OccasionalWarning("cache_unavailable")

    # -- generations: one counter per project, bumped by every write in it --

    async def generation(self, project_id: object) -> int | None:
        """The project's data generation; None when the backend could not be read."""
        raw = await self._get(generation_key(project_id), failed=_UNREADABLE)
        return None if raw is _UNREADABLE else int(raw or 0)

    async def bump(self, project_id: object) -> None:
        """Every write in the project bumps its generation: its cached answers become unreachable.

        Access never depends on it (backend/access/facts.py): a bump lost while Redis fails leaves
        answers stale for at most the cache TTL, visible only to those who may see the project.
        """
        await self._quietly(self._backend.incr(generation_key(project_id)), None)

    # -- small values: accounts' display data (names in answers; never an access decision) --

    async def get_many_json(self, keys: list[str]) -> list[Any]:
        """The values at `keys`, decoded; shared with other callers, so never change them in place."""
        if not keys:
            return []
        return [self.decode(value) for value in await self._mget(keys)]

    async def _get(self, key: str, *, failed: Any = None) -> Any:
        """The raw value at `key` (None when absent), or `failed` when the backend failed."""
        already = _already_read.get()
        if already is not None and key in already:
            return already[key]
        return await self._quietly(self._backend.get(key), failed)

    async def _mget(self, keys: list[str]) -> list[bytes | None]:
        already = _already_read.get()
        if already is not None and all(key in already for key in keys):
            return [already[key] for key in keys]
        raw: list[bytes | None] = await self._quietly(self._backend.mget(keys), [None] * len(keys))
        return raw

    def decode(self, raw: bytes | None) -> Any:
        """A JSON value as read from the backend (by whoever read it)."""
        # The same few small values (accounts' names) are read again and again: equal
        # bytes decode to an equal value, so each is decoded once.
        if not raw:
            return None
        if len(raw) > self.DECODED_MAX_BYTES:
            return json.loads(raw)
        value = self._decoded.get(raw)
        if value is None:
            if len(self._decoded) >= self.DECODED_ENTRIES:
                self._decoded.clear()
            value = self._decoded[raw] = json.loads(raw)
        return value

    async def set_json(self, key: str, value: Any, ttl: int | None = None) -> None:
        await self._quietly(
            self._backend.set(key, json.dumps(value, default=str).encode(), ttl or self._ttl), None
        )

    async def forget(self, key: str) -> None:
        await self._quietly(self._backend.delete(key), None)

    def forget_recent(self) -> None:
        """Drop the process's copies of generation-keyed values: after Redis lost its data, counting
        starts again from 0, and a copy kept under an old generation's key would be served again."""
        self._recent.clear()

    # -- whole responses --

    @property
    def enabled(self) -> bool:
        return self._enabled

    # -- the cache-hit fast path: only with generations just read from the backend, never with the
    # fallback of an unavailable one (a key of an old generation would then be served from memory) --

    async def peek(self, parts: list[str]) -> CachedResponse | None:
        """The cached response for these key parts, if there is one; never computes."""
        if not self._enabled:
            return None
        key = _entry_key(parts)
        entry: CachedResponse | None = await self._generation_value(key, CachedResponse.load)
        if entry is not None:
            CACHE_HIT.inc()  # a miss here goes on to the route, which counts it
        already = _already_read.get()
        if entry is None and already is not None:
            already[key] = None  # the route, next, computes without looking again
        return entry

    async def _generation_value(self, key: str, load: Callable[[bytes], Any]) -> Any:
        value = self._recent.get(key)
        if value is None:
            raw = await self._quietly(self._backend.get(key), None)
            if raw is None:
                return None
            value = load(raw)
            self._recent.put(key, value, len(raw))
        return value

    async def fetch(
        self, parts: list[str], compute: Callable[[], Awaitable[CachedResponse]]
    ) -> tuple[CachedResponse, bool]:
        """The cached response for these key parts, or compute it once; True when it was a hit."""
        if not self._enabled:
            return await compute(), False
        key = _entry_key(parts)
        raw = await self._get(key)
        if raw is not None:
            CACHE_HIT.inc()
            return CachedResponse.load(raw), True
        CACHE_MISS.inc()
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending), False
        future: asyncio.Future[CachedResponse] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            response = await compute()
            if response.status == 200:
                await self._quietly(self._backend.set(key, response.dump(), self._ttl), None)
            future.set_result(response)
            return response, False
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future does not warn
            raise
        finally:
            del self._inflight[key]

    async def _quietly(self, operation: Awaitable[Any], fallback: Any) -> Any:
        """Run a backend call; on a Redis failure answer `fallback` (the cache is an optimisation)."""
        try:
            return await operation
        except (RedisError, OSError) as exc:
            self._unavailable(log, exc, detail="serving from MongoDB")
            return fallback


_UNREADABLE = object()  # `_get`'s answer when the backend failed, told apart from "no value"


def _entry_key(parts: list[str]) -> str:
    return "tasklane:resp:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def generation_key(project_id: object) -> str:
    return f"tasklane:gen:data:{project_id}"
