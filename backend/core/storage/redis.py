"""Redis wiring: a real server on `REDIS_URL`, or an in-process Redis (fakeredis) when it is unset.

Both are `redis.asyncio.Redis`, so the cache, limiter and event code see one interface.
"""

from redis.asyncio import BlockingConnectionPool, Redis

from backend.core.config import Settings
from backend.core.storage.in_memory import in_memory_package

RedisClient = Redis


def make_redis(settings: Settings) -> RedisClient:
    if settings.redis_url is None:
        fakeredis = in_memory_package("fakeredis", "REDIS_URL")
        # A private server per app, so two apps in one process (tests) do not share data.
        redis: RedisClient = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=False)
        return redis
    # redis-py 8's plain async pool raises past its size instead of waiting; this one waits.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_timeout_seconds,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
    )
    return Redis(connection_pool=pool)
