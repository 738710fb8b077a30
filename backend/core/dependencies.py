"""Annotated dependencies for the app's core resources (backend/core/resources.py).

All dependencies are `async def`: FastAPI runs a plain `def` in a worker thread, a hop that cost a
cache hit more than its own work (benchmarks/README.md).
"""

from typing import Annotated

from fastapi import Depends, Request

from backend.core.caching.generations import Generations
from backend.core.config import Settings
from backend.core.resources import Resources, Stores, resources
from backend.core.storage.db import Mongo
from backend.core.storage.redis import RedisClient


async def get_resources(request: Request) -> Resources:
    return resources(request.app)


async def get_stores(request: Request) -> Stores:
    return resources(request.app).stores


async def get_settings_from_app(request: Request) -> Settings:
    return resources(request.app).settings


async def get_mongo(request: Request) -> Mongo:
    return resources(request.app).stores.mongo


async def get_redis(request: Request) -> RedisClient:
    return resources(request.app).stores.redis


async def get_generations(request: Request) -> Generations:
    return resources(request.app).stores.generations


ResourcesDep = Annotated[Resources, Depends(get_resources)]
StoresDep = Annotated[Stores, Depends(get_stores)]
SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]
MongoDep = Annotated[Mongo, Depends(get_mongo)]
RedisDep = Annotated[RedisClient, Depends(get_redis)]
GenerationsDep = Annotated[Generations, Depends(get_generations)]
