"""Pytest fixtures for anyone testing Tasklane (loaded with `-p backend.testing`).

One line gives a running app: `async def test_x(client): ...`. Without `MONGODB_URL`/`REDIS_URL`
the app runs on an in-memory MongoDB (mongomock-motor) and an in-process Redis (fakeredis); with them,
on real servers, each test in a database of its own and with Redis flushed, so use test servers only.
"""

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.config import Environment, Settings
from backend.core.db import Database
from backend.core.redis import RedisClient
from backend.main import create_app

BASE_URL = "http://tasklane.test"


def real_servers() -> bool:
    return bool(os.environ.get("MONGODB_URL"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("real_servers") and not real_servers():
        pytest.skip("runs on the real-server tier (MONGODB_URL and REDIS_URL set)")


def make_test_settings(**overrides: Any) -> Settings:
    """Settings for a test: the environment's servers if any, a database of its own, no `.env`."""
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "mongodb_db": f"tasklane_test_{uuid.uuid4().hex[:12]}",
        "log_json": True,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings() -> Settings:
    """Override this fixture in a test module to change a setting for its tests."""
    return make_test_settings()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan run (storage connected), torn down and its data removed after."""
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        redis: RedisClient = application.state.redis
        if settings.redis_url:
            # A test may point the app at a Redis that is down on purpose; nothing to flush then.
            with contextlib.suppress(RedisConnectionError):
                await redis.flushdb()
        try:
            yield application
        finally:
            if settings.mongodb_url:
                await application.state.mongo.client.drop_database(settings.mongodb_db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, as a browser or script would."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def db(app: FastAPI) -> Database:
    """The MongoDB database the app uses (in-memory or real), for arranging and checking stored data."""
    database: Database = app.state.mongo.database
    return database


@pytest.fixture
def redis(app: FastAPI) -> RedisClient:
    """The Redis client the app uses (fakeredis in-process, or the real server)."""
    client: RedisClient = app.state.redis
    return client
