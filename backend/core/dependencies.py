"""Annotated dependencies for the app-wide resources made at startup (kept on `app.state`).

All dependencies are `async def`: FastAPI runs a plain `def` in a worker thread, a hop that cost a
cache hit more than its own work (benchmarks/README.md).
"""

from typing import Annotated

from fastapi import Depends, Request

from backend.core.caching.cache import ResponseCache
from backend.core.config import Settings
from backend.core.storage.db import Mongo
from backend.core.storage.redis import RedisClient


async def get_settings_from_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_mongo(request: Request) -> Mongo:
    mongo: Mongo = request.app.state.mongo
    return mongo


async def get_redis(request: Request) -> RedisClient:
    redis: RedisClient = request.app.state.redis
    return redis


async def get_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.cache
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]
MongoDep = Annotated[Mongo, Depends(get_mongo)]
RedisDep = Annotated[RedisClient, Depends(get_redis)]
CacheDep = Annotated[ResponseCache, Depends(get_cache)]
