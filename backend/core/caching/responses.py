"""Whole responses in the cache: stored under the hash of everything their answer depends on.

Concurrent misses of one key in a process compute once. The cache-hit fast path (fastpath.py)
looks with `peek`, the route with `fetch`. A key `peek` just found empty is not looked up again by
`fetch` within a second (the route computes at once): at worst, an entry another process stored
meanwhile is computed again, with the same content (the key holds the generation).
"""

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel
from starlette import status

from backend.core.caching import keys
from backend.core.caching.stores import QuietStore
from backend.core.http.preconditions import none_match
from backend.core.metrics import CACHE_HIT, CACHE_MISS

JSON = "application/json"


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


def json_entry(payload: BaseModel, etag: str | None = None) -> CachedResponse:
    """A 200 JSON response to cache; without an ETag of its own, the body's hash is its ETag.
    Serialized by pydantic-core in one pass (no dict, no second validation on the way out)."""
    body = payload.model_dump_json().encode()
    tag = etag or '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return CachedResponse(200, body, {"ETag": tag, "Content-Type": JSON})


def reply(entry: CachedResponse, *, hit: bool, if_none_match: str | None) -> CachedResponse:
    """What the client gets for a cached entry: its headers for this cache, or a 304 without a body."""
    headers = {**entry.headers, "X-Cache": "HIT" if hit else "MISS", "Cache-Control": "private"}
    if none_match(if_none_match, entry.headers["ETag"]):
        headers.pop("Content-Type", None)
        return CachedResponse(status.HTTP_304_NOT_MODIFIED, b"", headers)
    return CachedResponse(entry.status, entry.body, headers)


V = TypeVar("V")


class RecentValues(Generic[V]):
    """Decoded entries (whose content never changes: their key embeds a generation), kept a few
    seconds in process: a hot key is fetched and decoded once per lifetime, not once per request.

    Bounded by the bytes the values were read from; oldest first out.
    """

    def __init__(
        self, lifetime_seconds: float, max_bytes: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._items: OrderedDict[str, tuple[float, int, V]] = OrderedDict()
        self._clock = clock
        self._lifetime = lifetime_seconds
        self._max_bytes = max_bytes
        self._bytes = 0

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < self._clock():
            self._drop(key)
            return None
        return item[2]

    def put(self, key: str, value: V, size: int) -> None:
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
    ABSENT_SECONDS = 1.0  # how long a key `peek` found empty is taken as empty by `fetch`
    ABSENT_KEYS = 4096

    def __init__(self, store: QuietStore, ttl_seconds: int, *, enabled: bool = True) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self.enabled = enabled
        self._recent: RecentValues[CachedResponse] = RecentValues(self.RECENT_SECONDS, self.RECENT_BYTES)
        self._inflight: dict[str, asyncio.Future[CachedResponse]] = {}
        self._absent: OrderedDict[str, float] = OrderedDict()  # key -> when peek found it empty

    def forget_recent(self) -> None:
        """Drop the process's copies of entries: after Redis lost its data, generations count from 0
        again, and a copy kept under an old generation's key would be served again."""
        self._recent.clear()

    async def peek(self, parts: list[str]) -> CachedResponse | None:
        """The cached response for these key parts, if there is one; never computes. Only with
        generations just read from the store, never with the fallback of an unreadable one (a key of
        an old generation would then be served from memory)."""
        if not self.enabled:
            return None
        key = keys.response(parts)
        entry = self._recent.get(key)
        if entry is None:
            raw = await self._store.run(self._store.store.get(key), None)
            if raw is None:
                self._note_absent(key)  # the route, next, computes without looking again
                return None
            entry = CachedResponse.load(raw)
            self._recent.put(key, entry, len(raw))
        CACHE_HIT.inc()  # a miss here goes on to the route, which counts it
        return entry

    async def fetch(
        self, parts: list[str], compute: Callable[[], Awaitable[CachedResponse]]
    ) -> tuple[CachedResponse, bool]:
        """The cached response for these key parts, or compute it once; True when it was a hit."""
        if not self.enabled:
            return await compute(), False
        key = keys.response(parts)
        if not self._was_absent(key):
            raw = await self._store.run(self._store.store.get(key), None)
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
                await self._store.run(self._store.store.set(key, response.dump(), self._ttl), None)
            future.set_result(response)
            return response, False
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future does not warn
            raise
        finally:
            del self._inflight[key]

    def _note_absent(self, key: str) -> None:
        self._absent[key] = time.monotonic()
        self._absent.move_to_end(key)
        if len(self._absent) > self.ABSENT_KEYS:
            self._absent.popitem(last=False)

    def _was_absent(self, key: str) -> bool:
        noted = self._absent.pop(key, None)
        return noted is not None and time.monotonic() - noted < self.ABSENT_SECONDS
