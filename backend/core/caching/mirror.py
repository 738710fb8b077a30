"""Values of a few Redis keys kept in process while Redis reports every change to them.

Every cache hit must know the project's current generation (the key of its answers). Asking Redis
each time cost a hit more than all else it does (benchmarks/README.md); access decisions do not
come from here, but from MongoDB (backend/access/facts.py). Redis's client-side caching support
(`CLIENT TRACKING ON BCAST PREFIX ...`) tells one connection of every change to keys under the given
prefixes, whoever makes it: a write by any process, an expiry, a flush. A value read once is then
known here until Redis says it changed.

Trust rests on that connection: values are used only while it is up and answers its pings; when it
drops or goes quiet, everything known is forgotten and reads go to Redis until it is back. A value
read while a change to it was on its way is not kept (`epoch`). This process's own writes forget
their key when they complete, so a process reads its own writes at once; other processes learn of a
write when Redis's message reaches them (well under a millisecond on one host), as they learn of it
today when their next read reaches Redis.
"""

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from redis.exceptions import RedisError

from backend.core.logging import OccasionalWarning
from backend.core.storage.redis import RedisClient

log = structlog.get_logger(__name__)


class KeyMirror:
    PING_SECONDS = 1.0  # a connection silent for two of these is treated as lost
    RETRY_SECONDS = 1.0
    MAX_KEYS = 100_000  # past this, everything is forgotten at once (a process knows few keys)

    def __init__(self, prefixes: Sequence[str]) -> None:
        self.prefixes = tuple(prefixes)
        self._values: dict[str, bytes | None] = {}
        self._live = False
        self._epoch = 0  # moves on every change heard of, so a read that raced one is not kept
        self._unavailable = OccasionalWarning("key_mirror_unavailable")
        # Called whenever everything is forgotten (a flush, a lost connection: data may be gone), so
        # that what the process keeps derived from these values goes too.
        self.on_forget_all: list[Callable[[], None]] = []

    @property
    def live(self) -> bool:
        return self._live

    @property
    def epoch(self) -> int:
        return self._epoch

    def tracks(self, key: str) -> bool:
        return key.startswith(self.prefixes)

    def known(self, keys: Sequence[str]) -> dict[str, bytes | None]:
        """The values of those of `keys` known here."""
        if not self._live:
            return {}
        values = self._values
        return {key: values[key] for key in keys if key in values}

    def split(self, keys: Sequence[str]) -> tuple[dict[str, bytes | None], list[str], int]:
        """What is known of `keys`, the keys to read from Redis, and the epoch to `learn` them with."""
        known = self.known(keys)
        return known, [key for key in keys if key not in known], self._epoch

    def learn(
        self, keys: Sequence[str], values: Sequence[bytes | None], epoch: int
    ) -> dict[str, bytes | None]:
        """`keys`' `values` as just read from Redis, remembered where nothing changed since `epoch`."""
        read = dict(zip(keys, values, strict=True))
        for key, value in read.items():
            self.remember(key, value, epoch)
        return read

    def remember(self, key: str, value: bytes | None, epoch: int) -> None:
        """Keep `value`, read from Redis after `epoch` was taken, unless anything changed since."""
        if self._live and epoch == self._epoch and self.tracks(key):
            if len(self._values) >= self.MAX_KEYS:
                self._values.clear()
            self._values[key] = value

    def forget(self, key: str) -> None:
        self._epoch += 1
        self._values.pop(key, None)

    def forget_all(self) -> None:
        self._epoch += 1
        self._values.clear()
        for listener in self.on_forget_all:
            listener()

    async def follow(self, redis: RedisClient) -> None:
        """Hear of changes for as long as the app runs; reconnect after a failure."""
        while True:
            try:
                await self._follow_once(redis)
            except (RedisError, OSError, TimeoutError) as exc:
                self._unavailable(log, exc, detail="reading from Redis")
            await asyncio.sleep(self.RETRY_SECONDS)

    async def _follow_once(self, redis: RedisClient) -> None:
        pool = redis.connection_pool
        # A connection of its own, outside the pool: tracking and its messages belong to it.
        connection = pool.connection_class(**pool.connection_kwargs)
        try:
            await connection.connect()  # type: ignore[no-untyped-call]
            # RESP3 delivers the changes on this very connection; redis-py hands them to this hook of
            # its parser (the one its own client-side caching uses), then to us with push_request.
            parser: Any = connection._parser
            parser.set_invalidation_push_handler(_as_is)
            prefixes = [word for prefix in self.prefixes for word in ("PREFIX", prefix)]
            await connection.send_command("CLIENT", "TRACKING", "ON", "BCAST", *prefixes)
            if await connection.read_response() not in (b"OK", "OK"):
                raise RedisError("CLIENT TRACKING was refused")
            self.forget_all()  # a read sent before tracking began may return what has changed since
            self._live = True
            awaiting_pong = False
            while True:
                message: Any = await connection.read_response(timeout=self.PING_SECONDS, push_request=True)
                if message is None:  # quiet for a whole interval
                    if awaiting_pong:
                        raise TimeoutError("Redis did not answer a ping")
                    await connection.send_command("PING")
                    awaiting_pong = True
                elif isinstance(message, list) and message and message[0] in (b"invalidate", "invalidate"):
                    self._changed(message[1])
                else:
                    awaiting_pong = False
        finally:
            self._live = False
            self.forget_all()
            await connection.disconnect()

    def _changed(self, keys: list[bytes] | None) -> None:
        if keys is None:  # FLUSHDB/FLUSHALL
            self.forget_all()
            return
        for key in keys:
            self.forget(key.decode() if isinstance(key, bytes) else key)


async def _as_is(message: Any) -> Any:
    return message
