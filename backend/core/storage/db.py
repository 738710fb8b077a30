"""MongoDB wiring, on either driver stack: the only module that knows which one runs.

- Beanie 1.x on Motor (`motor.motor_asyncio`): the default, and the in-memory MongoDB (mongomock-motor);
- Beanie 2.x on PyMongo's async API (`pymongo.AsyncMongoClient`): real servers only.

The stack is Beanie's major version, read once at import. Repositories reach a document's collection
through `collection(Document)`, open cursors of `aggregate`/`list_indexes`/`watch` through `opened()`
(PyMongo's async API returns them from a coroutine, Motor at once) and clients close with
`await mongo.close()`. Types are PyMongo's async ones on both stacks (Motor mirrors them).
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import beanie
import structlog
from beanie import Document, init_beanie
from pymongo import UpdateOne, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from backend.core.config import MongoSettings, Settings
from backend.core.storage.in_memory import in_memory_package

log = structlog.get_logger(__name__)

# Beanie 2 dropped Motor for PyMongo's async API (and renamed `get_motor_collection`).
BEANIE_2 = int(beanie.__version__.split(".", 1)[0]) >= 2

Database = AsyncDatabase[dict[str, Any]]
Collection = AsyncCollection[dict[str, Any]]
_COLLECTION_GETTER = "get_pymongo_collection" if BEANIE_2 else "get_motor_collection"
T = TypeVar("T")


def collection(document: type[Document]) -> Collection:
    """The driver collection of a Beanie document (after `init_beanie`), on either stack: for the
    queries Beanie's builders cannot express."""
    return cast(Collection, getattr(document, _COLLECTION_GETTER)())


D = TypeVar("D", bound=Document)


async def by_id(document: type[D], document_id: object) -> D | None:
    """One document by `_id` alone, the shape every server answers from the _id index at once; the
    caller checks any other condition. Not `Document.get`: Beanie sends a projection naming every
    field, which the server must then apply (0.2-0.3 ms a lookup on the test server, measured)."""
    found = await collection(document).find_one({"_id": document_id})
    return None if found is None else document.model_validate(found)


async def opened(call: Awaitable[T]) -> T:
    """The cursor or change stream of `aggregate`, `list_indexes` or `watch`: PyMongo's async API
    returns it from a coroutine (as typed), Motor and mongomock-motor at once."""
    if isinstance(call, Awaitable):
        return await call
    return call  # Motor: the cursor itself


async def aggregate(collection: Collection, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every document of an aggregation, on either stack."""
    cursor = await opened(collection.aggregate(pipeline))
    return await cursor.to_list(None)


def _driver_client() -> Callable[..., Any]:
    if BEANIE_2:
        from pymongo import AsyncMongoClient

        return AsyncMongoClient
    from motor.motor_asyncio import AsyncIOMotorClient

    return cast(Callable[..., Any], AsyncIOMotorClient)


@dataclass(frozen=True)
class Mongo:
    client: Any  # AsyncMongoClient, AsyncIOMotorClient or AsyncMongoMockClient
    database: Database
    in_memory: bool

    async def close(self) -> None:
        if self.in_memory:
            _LOCAL_LISTENERS.pop(_mock_key(self.database), None)
        await opened(self.client.close())  # a coroutine on AsyncMongoClient, plain on Motor


def make_client(settings: MongoSettings, *, listeners: Sequence[monitoring.CommandListener] = ()) -> Mongo:
    """A client on `MONGODB_URL` (Motor, or PyMongo's async one on Beanie 2), or an in-memory
    MongoDB when it is unset (Beanie 1.x only).

    `listeners` see every command sent to a real server (tests count round trips and record query
    shapes with them); the in-memory MongoDB sends none.
    """
    if settings.mongodb_url is None:
        if BEANIE_2:
            raise RuntimeError(
                "the in-memory MongoDB (mongomock-motor) needs Beanie 1.x; with Beanie 2 set MONGODB_URL"
            )
        mongomock_motor = in_memory_package("mongomock_motor", "MONGODB_URL")
        mock: Any = mongomock_motor.AsyncMongoMockClient(tz_aware=True)
        return Mongo(client=mock, database=mock[settings.mongodb_db], in_memory=True)
    client = _driver_client()(
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
    models: Sequence[type[Document]],
    *,
    build_indexes: bool | None = None,
    listeners: Sequence[monitoring.CommandListener] = (),
) -> Mongo:
    """Make the client and initialise Beanie on it (building declared indexes unless told not to)."""
    mongo = make_client(settings, listeners=listeners)
    skip = not (settings.mongodb_build_indexes if build_indexes is None else build_indexes)
    # Typed for Motor's database by Beanie 1.x, for PyMongo's by 2.x: the one `make_client` made.
    await init_beanie(database=cast(Any, mongo.database), document_models=list(models), skip_indexes=skip)
    return mongo


async def ping(database: Database) -> None:
    await database.command("ping")


@dataclass(frozen=True)
class Update:
    """One conditional update of one document, for `bulk_update`."""

    filter: dict[str, Any]
    update: dict[str, Any]


async def bulk_update(collection: Collection, updates: list[Update]) -> int:
    """Apply the updates in one round trip; returns how many matched.

    The in-memory mock cannot run `bulk_write` with PyMongo 4.20's operations, so there, and only
    there, they run one by one (in process, so no round trips are spent).
    """
    if not updates:
        return 0
    if _is_mock(collection):
        matched = 0
        for one in updates:
            matched += (await collection.update_one(one.filter, one.update)).matched_count
        return matched
    result = await collection.bulk_write([UpdateOne(u.filter, u.update) for u in updates], ordered=False)
    return int(result.matched_count)


DUPLICATE_KEY = 11000


@contextlib.contextmanager
def duplicates_skipped() -> Iterator[set[int]]:
    """Around an unordered `insert_many` of documents that may exist already: those a unique index
    refused are skipped, the others stay inserted (one round trip, no read first); the set it
    yields gets the positions of the refused ones. Any other error is raised."""
    refused_at: set[int] = set()
    try:
        yield refused_at
    except BulkWriteError as exc:
        refused = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(e.get("code") != DUPLICATE_KEY for e in refused):
            raise
        refused_at.update(int(e["index"]) for e in refused)


def _is_mock(collection: Any) -> bool:
    try:
        from mongomock_motor import AsyncMongoMockCollection
    except ImportError:  # not installed: no in-memory database in this process
        return False
    return isinstance(collection, AsyncMongoMockCollection)


@dataclass(frozen=True)
class Change:
    """One change MongoDB reported: the collection, the document's `_id`, and which top-level fields
    an update touched (None: the whole document may have changed: insert, replace, delete, drop)."""

    collection: str
    document_id: object
    fields: frozenset[str] | None


async def follow_changes(
    database: Database, collections: Sequence[str], *, await_ms: int
) -> AsyncIterator[Change | None]:
    """MongoDB's change stream of `collections`: a `Change` per change, and None each time the server
    answered without one (at least every `await_ms`), so the caller knows the stream is alive.

    Raises the driver's error when the stream breaks; the caller decides when to follow again.
    """
    pipeline = [{"$match": {"ns.coll": {"$in": list(collections)}}}]
    async with await opened(database.watch(pipeline, max_await_time_ms=await_ms)) as stream:
        yield None  # opened: from here on every change is reported
        while True:
            change = await stream.try_next()
            if change is None:
                if not stream.alive:
                    # Invalidated (a drop) or closed: try_next would answer None at once, forever,
                    # without waiting for the server (PyMongo's async API then never yields to the loop).
                    return
                yield None
                continue
            key = change.get("documentKey") or {}
            described = change.get("updateDescription")
            fields = None
            if change["operationType"] == "update" and described is not None:
                touched = [*described.get("updatedFields", {}), *described.get("removedFields", [])]
                fields = frozenset(name.split(".", 1)[0] for name in touched)
            yield Change(change.get("ns", {}).get("coll", ""), key.get("_id"), fields)


# -- the in-memory MongoDB's own change stream --
#
# mongomock has no change streams, but in memory every write comes from this one process, through the
# mock's collection methods: those are wrapped once, and report each write to the listeners of its
# database as the change stream would (the `_id` when the filter names one, else None: "any").

ChangeListener = Callable[[Change], None]
_LOCAL_LISTENERS: dict[int, list[ChangeListener]] = {}
_WRITES = {
    "insert_one": "insert",
    "insert_many": "insert",
    "update_one": "update",
    "update_many": "update",
    "replace_one": "replace",
    "delete_one": "delete",
    "delete_many": "delete",
    "find_one_and_update": "update",
    "find_one_and_replace": "replace",
    "find_one_and_delete": "delete",
    "bulk_write": "bulk",
}


def _mock_key(database: Any) -> int:
    return id(database.delegate)


def follow_local_changes(mongo: Mongo, listener: ChangeListener) -> None:
    """Report every write to the in-memory database to `listener`, as a change stream would."""
    assert mongo.in_memory
    _wrap_mock_writes()
    _LOCAL_LISTENERS.setdefault(_mock_key(mongo.database), []).append(listener)


def _changes_of(kind: str, collection: str, args: tuple[Any, ...]) -> list[Change]:
    if kind == "insert" and args:
        documents = args[0] if isinstance(args[0], list) else [args[0]]
        return [Change(collection, d.get("_id") if isinstance(d, dict) else None, None) for d in documents]
    condition = args[0] if args and isinstance(args[0], dict) else {}
    document_id = condition.get("_id")
    if isinstance(document_id, dict):
        document_id = None  # an operator: any number of documents
    fields = None
    if kind == "update" and len(args) > 1 and isinstance(args[1], dict):
        fields = frozenset(
            name.split(".", 1)[0] for op in args[1].values() if isinstance(op, dict) for name in op
        )
    return [Change(collection, document_id, fields)]


def _wrap_mock_writes() -> None:
    from mongomock_motor import AsyncMongoMockCollection

    for method, kind in _WRITES.items():
        original = getattr(AsyncMongoMockCollection, method)
        if getattr(original, "reports_writes", False):
            continue  # wrapped already (tests may put their own wrappers around, and take them off)

        async def reporting(
            self: Any, *args: Any, __original: Any = original, __kind: str = kind, **kwargs: Any
        ) -> Any:
            try:
                return await __original(self, *args, **kwargs)
            finally:
                listeners = _LOCAL_LISTENERS.get(_mock_key(self.database), ())
                if listeners:
                    for change in _changes_of(__kind, self.name, args):
                        for listener in listeners:
                            listener(change)

        reporting.reports_writes = True  # type: ignore[attr-defined]
        setattr(AsyncMongoMockCollection, method, reporting)
