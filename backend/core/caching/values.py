"""Small JSON values in the shared cache (accounts' display data), read many at once."""

import json
from typing import Any

from backend.core.caching.stores import QuietStore


class JsonValues:
    DECODED_ENTRIES = 4096
    DECODED_MAX_BYTES = 2048

    def __init__(self, store: QuietStore, ttl_seconds: int) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._decoded: dict[bytes, Any] = {}

    async def get_many(self, keys: list[str]) -> list[Any]:
        """The values at `keys`, decoded (None when absent); shared with other callers, so never
        change them in place."""
        if not keys:
            return []
        absent: list[bytes | None] = [None] * len(keys)
        raw = await self._store.run(self._store.store.mget(keys), absent)
        return [self._decode(value) for value in raw]

    async def put_many(self, values: dict[str, Any], ttl: int | None = None) -> None:
        """In one round trip, whatever their number."""
        if values:
            items = {key: json.dumps(value, default=str).encode() for key, value in values.items()}
            await self._store.run(self._store.store.set_many(items, ttl or self._ttl), None)

    async def forget(self, key: str) -> None:
        await self._store.run(self._store.store.delete(key), None)

    def _decode(self, raw: bytes | None) -> Any:
        # The same few small values (accounts' names) are read again and again: equal bytes decode to
        # an equal value, so each is decoded once.
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
