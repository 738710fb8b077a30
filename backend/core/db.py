"""MongoDB wiring. The only module that imports `motor`, so a later move to PyMongo's async API is local."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from beanie import Document, init_beanie
from mongomock_motor import AsyncMongoMockClient, AsyncMongoMockCollection
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo import UpdateOne, monitoring

from backend.activity.documents import ActivityRecord
from backend.auth.documents import PersonalAccessToken, RefreshToken
from backend.comments.documents import Comment
from backend.core.config import Settings
from backend.projects.documents import Project
from backend.tasks.documents import Task
from backend.users.documents import User

log = structlog.get_logger(__name__)

Database = AsyncIOMotorDatabase[dict[str, Any]]

# Every Beanie document of the app; startup, the index script and tests pass this one list.
DOCUMENT_MODELS: list[type[Document]] = [
    User,
    RefreshToken,
    PersonalAccessToken,
    Project,
    Task,
    Comment,
    ActivityRecord,
]


@dataclass(frozen=True)
class Mongo:
    client: Any  # AsyncIOMotorClient or AsyncMongoMockClient: the same Motor surface
    database: Database
    in_memory: bool

    def close(self) -> None:
        self.client.close()


def make_client(settings: Settings, *, listeners: Sequence[monitoring.CommandListener] = ()) -> Mongo:
    """A Motor client on `MONGODB_URL`, or an in-memory MongoDB when it is unset.

    `listeners` see every command sent to a real server (tests count round trips and record query
    shapes with them); the in-memory MongoDB sends none.
    """
    if settings.mongodb_url is None:
        mock: Any = AsyncMongoMockClient(tz_aware=True)
        return Mongo(client=mock, database=mock[settings.mongodb_db], in_memory=True)
    client: AsyncIOMotorClient[dict[str, Any]] = AsyncIOMotorClient(
        settings.mongodb_url,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.mongodb_server_selection_timeout_ms,
        socketTimeoutMS=settings.mongodb_socket_timeout_ms,
        maxPoolSize=settings.mongodb_max_pool_size,
        appname="tasklane",
        event_listeners=list(listeners),
    )
    return Mongo(client=client, database=client[settings.mongodb_db], in_memory=False)


async def connect(
    settings: Settings,
    *,
    models: Sequence[type[Document]] = DOCUMENT_MODELS,
    build_indexes: bool | None = None,
    listeners: Sequence[monitoring.CommandListener] = (),
) -> Mongo:
    """Make the client and initialise Beanie on it (building declared indexes unless told not to)."""
    mongo = make_client(settings, listeners=listeners)
    skip = not (settings.mongodb_build_indexes if build_indexes is None else build_indexes)
    await init_beanie(database=mongo.database, document_models=list(models), skip_indexes=skip)
    return mongo


async def ping(database: Database) -> None:
    await database.command("ping")


@dataclass(frozen=True)
class Update:
    """One conditional update of one document, for `bulk_update`."""

    filter: dict[str, Any]
    update: dict[str, Any]


async def bulk_update(collection: Any, updates: list[Update]) -> int:
    """Apply the updates in one round trip; returns how many matched.

    The in-memory mock cannot run `bulk_write` with PyMongo 4.20's operations, so there, and only
    there, they run one by one (in process, so no round trips are spent).
    """
    if not updates:
        return 0
    if isinstance(collection, AsyncMongoMockCollection):
        matched = 0
        for one in updates:
            matched += (await collection.update_one(one.filter, one.update)).matched_count
        return matched
    result = await collection.bulk_write([UpdateOne(u.filter, u.update) for u in updates], ordered=False)
    return int(result.matched_count)
