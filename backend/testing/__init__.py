"""The pytest plugin for anyone testing Tasklane: installed with `pip install tasklane[test]`, it
loads by itself (a `pytest11` entry point), in pytest-asyncio's strict and auto modes alike.

One line gives a running app: `async def test_x(client): ...`. Without `MONGODB_URL`/`REDIS_URL`
the app runs on an in-memory MongoDB (mongomock-motor) and an in-process Redis (fakeredis); with them,
on real servers, each test in a database of its own and with Redis flushed, so use test servers only.
See docs/testing.md for every fixture, factory and marker.
"""

import asyncio
import contextlib
import inspect
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from beanie import PydanticObjectId
from fastapi import FastAPI
from pymongo import monitoring
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.caching.fastpath import CachedReads
from backend.core.caching.mirror import KeyMirror
from backend.core.config import Environment, Settings
from backend.core.storage.db import BEANIE_2, Database
from backend.core.storage.query_shapes import QueryShape, QueryShapeRecorder, shapes_of, uncovered
from backend.core.storage.redis import RedisClient
from backend.main import create_app
from backend.resources import resources_of
from backend.testing.factories import Factory
from backend.users.documents import GlobalRole, User

BASE_URL = "http://tasklane.test"


def real_servers() -> bool:
    return bool(os.environ.get("MONGODB_URL"))


# With TASKLANE_QUERY_SHAPES=file on the real-server tier, every query the suite sends is recorded
# there, for `tasklane indexes coverage file`.
_SHAPES_FILE = os.environ.get("TASKLANE_QUERY_SHAPES")
_SHAPES = QueryShapeRecorder() if _SHAPES_FILE else None


# In memory, the mock's methods are recorded as the commands they stand for (see `_count_mock_commands`),
# and with the `tasklane_index_coverage` ini option the run fails when one has no index.
_MEMORY_SHAPES = QueryShapeRecorder()

INDEX_COVERAGE = "tasklane_index_coverage"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INDEX_COVERAGE,
        "Fail the run when a query sent to the in-memory MongoDB is served by no declared index.",
        type="bool",
        default=False,
    )


def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # pytest-asyncio reminds every project that leaves `asyncio_default_fixture_loop_scope` unset
    # that its default will change. This plugin's fixtures are function-scoped, so they run the
    # same under either default; a tester's own async fixtures are theirs to scope. Added here,
    # before pytest-asyncio's pytest_configure warns, so that a project with no configuration runs
    # clean. A project that sets the option never sees the reminder anyway.
    early_config.addinivalue_line(
        "filterwarnings",
        'ignore:The configuration option "asyncio_default_fixture_loop_scope" is unset'
        ":pytest.PytestDeprecationWarning",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_servers: meaningful only against real MongoDB-compatible and Redis servers "
        "(skipped on the in-memory tier)",
    )
    config.addinivalue_line(
        "markers",
        "in_memory_mongodb: starts the app on the in-memory MongoDB (mongomock-motor), which serves "
        "Beanie 1.x only (skipped on the Beanie 2 stack)",
    )
    config.addinivalue_line(
        "markers",
        "tasklane_settings(**overrides): settings of the test's app, over the test defaults "
        "(e.g. max_body_bytes=1024, log_level='INFO')",
    )
    # lazy_model (a Beanie dependency) emits this tens of thousands of times with Pydantic 2.14.
    config.addinivalue_line("filterwarnings", "ignore::pydantic.warnings.PydanticDeprecatedSince211")


# The async fixtures of this plugin: an async test asking for one runs on asyncio, in pytest-asyncio's
# strict mode too, without a marker (tests without them are left to their own plugins).
_ASYNC_FIXTURES = frozenset({"app", "client", "db", "redis", "users", "team", "live_server", "factory"})


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    if not (name.startswith("test") and inspect.iscoroutinefunction(obj)):
        return
    marks = getattr(obj, "pytestmark", [])
    if any(mark.name == "asyncio" for mark in marks):
        return
    if _ASYNC_FIXTURES & set(inspect.signature(obj).parameters):
        pytest.mark.asyncio(obj)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SHAPES is not None and _SHAPES_FILE and real_servers():
        _SHAPES.save(Path(_SHAPES_FILE))
    if not real_servers() and session.config.getini(INDEX_COVERAGE) and _MEMORY_SHAPES.shapes:
        from backend.core.storage.indexes import declared
        from backend.documents import DOCUMENT_MODELS

        _UNCOVERED[:] = uncovered(_MEMORY_SHAPES.shapes, declared(DOCUMENT_MODELS))
        if _UNCOVERED and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


_UNCOVERED: list[QueryShape] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _UNCOVERED:
        terminalreporter.section("queries served by no declared index (the run fails)", red=True)
        for shape in _UNCOVERED:
            terminalreporter.write_line(f"  {shape.describe()}")
        terminalreporter.write_line(
            "Declare an index for each in the document's Settings.indexes (backend/<domain>/documents.py)."
        )


class CommandLog(monitoring.CommandListener):
    """Every MongoDB command an app sends (real-server tier), for round-trip budgets."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("endSessions", "hello", "isMaster", "ping", "buildInfo"):
            self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        self.commands.clear()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("real_servers") and not real_servers():
        pytest.skip("runs on the real-server tier (MONGODB_URL and REDIS_URL set)")
    if item.get_closest_marker("in_memory_mongodb") and BEANIE_2:
        pytest.skip("the in-memory MongoDB (mongomock-motor) serves Beanie 1.x only")


TEST_DATABASE_PREFIX = "tasklane_test_"


def make_test_settings(**overrides: Any) -> Settings:
    """Settings for a test: the environment's servers if any, a database of its own, no `.env`,
    cheap password hashing, limits no test trips by accident, and only warnings logged."""
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "mongodb_db": f"{TEST_DATABASE_PREFIX}{uuid.uuid4().hex[:12]}",
        "log_json": True,
        # One access line per request would bury a failing test's output; mark a test
        # `@pytest.mark.tasklane_settings(log_level="INFO")` to see them.
        "log_level": "WARNING",
        # Cheap argon2 costs: the suite registers hundreds of users; production costs are settings.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        # Factories log users in by the dozen from one address; tests of the limits set their own.
        "login_rate_limit_per_ip": "10000/minute",
        "login_rate_limit_per_email": "10000/minute",
        "rate_limit_authenticated": "100000/minute",
        "rate_limit_anonymous": "100000/minute",
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    """The app's settings: `make_test_settings()` with the `tasklane_settings` marker's overrides.
    A module or class may also override this fixture."""
    marker = request.node.get_closest_marker("tasklane_settings")
    return make_test_settings(**(marker.kwargs if marker else {}))


# The in-memory MongoDB sends no commands to monitor: these of its methods are counted instead,
# each as the wire command it stands for (a cursor counts once, when made).
_MOCK_COMMANDS = {
    "find": "find",
    "find_one": "find",
    "aggregate": "aggregate",
    "count_documents": "aggregate",
    "distinct": "distinct",
    "insert_one": "insert",
    "insert_many": "insert",
    "update_one": "update",
    "update_many": "update",
    "replace_one": "update",
    "delete_one": "delete",
    "delete_many": "delete",
    "find_one_and_update": "findAndModify",
}


def _count_mock_commands(log: CommandLog, monkeypatch: pytest.MonkeyPatch) -> None:
    from mongomock_motor import AsyncMongoMockCollection

    for method, command in _MOCK_COMMANDS.items():
        original = getattr(AsyncMongoMockCollection, method)

        def counted(
            self: Any,
            *args: Any,
            __original: Any = original,
            __command: str = command,
            __method: str = method,
            **kwargs: Any,
        ) -> Any:
            command = _as_command(__method, self.name, args, kwargs)
            log.commands.append((__command, command))
            _MEMORY_SHAPES.shapes.update(shapes_of(__command, command))
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(AsyncMongoMockCollection, method, counted)


def _as_command(
    method: str, collection: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The wire command a mock method call stands for, as far as its query shape goes."""
    command = _MOCK_COMMANDS[method]
    first = args[0] if args else kwargs.get("filter")
    sort = dict(kwargs.get("sort") or [])
    if command == "find":
        return {"find": collection, "filter": first or {}, "sort": sort}
    if method == "count_documents":
        return {"count": collection, "query": first or {}}
    if command == "aggregate":
        return {"aggregate": collection, "pipeline": first or []}
    if command == "distinct":
        return {"distinct": collection, "query": args[1] if len(args) > 1 else kwargs.get("filter") or {}}
    if command == "findAndModify":
        return {"findAndModify": collection, "query": first or {}, "sort": sort}
    if command == "update":
        return {"update": collection, "updates": [{"q": first or {}}]}
    if command == "delete":
        return {"delete": collection, "deletes": [{"q": first or {}}]}
    if command == "insert":  # the collection (a generator of documents is not consumed here)
        return {"insert": collection}
    return {}


@pytest.fixture
def mongo_commands(monkeypatch: pytest.MonkeyPatch) -> CommandLog:
    """The MongoDB commands the app sends during the test: through PyMongo command monitoring on
    real servers, by counting the mock's methods in memory. `clear()` it, make a request, count."""
    log = CommandLog()
    if not real_servers():
        _count_mock_commands(log, monkeypatch)
    return log


STARTUP_TIMEOUT = 180  # seconds


@pytest_asyncio.fixture
async def app(settings: Settings, mongo_commands: CommandLog) -> AsyncIterator[FastAPI]:
    """The app with its lifespan run (storage connected), torn down and its data removed after."""
    listeners: list[monitoring.CommandListener] = [mongo_commands, *([_SHAPES] if _SHAPES else [])]
    application = create_app(settings, command_listeners=listeners)
    # Startup takes well under a second, unless the settings ask for the demo data: seeding it on a
    # busy real-server tier took over 30 s (CI, both suites running on two cores).
    async with LifespanManager(application, startup_timeout=STARTUP_TIMEOUT, shutdown_timeout=30):
        redis = resources_of(application).stores.redis
        if settings.redis_url:
            # A test may point the app at a Redis that is down on purpose; nothing to flush then.
            with contextlib.suppress(RedisConnectionError):
                await redis.flushdb()
        try:
            yield application
        finally:
            # Only a database this plugin named: never one a tester's own settings point at.
            if settings.mongodb_url and settings.mongodb_db.startswith(TEST_DATABASE_PREFIX):
                await resources_of(application).stores.mongo.client.drop_database(settings.mongodb_db)


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, as a browser or script would."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def db(app: FastAPI) -> Database:
    """The MongoDB database the app uses (in-memory or real), for arranging and checking stored data."""
    return resources_of(app).stores.mongo.database


@pytest.fixture
def redis(app: FastAPI) -> RedisClient:
    """The Redis client the app uses (fakeredis in-process, or the real server)."""
    return resources_of(app).stores.redis


async def mirror_following(app: FastAPI, *, live: bool = True, within: float = 5.0) -> KeyMirror:
    """The app's mirror of Redis keys (real tier only), once it follows Redis (or, with
    `live=False`, once it has noticed that it no longer can)."""
    mirror = resources_of(app).stores.key_mirror
    assert mirror is not None, "only an app on a real Redis follows its keys"
    deadline = time.monotonic() + within
    while mirror.live != live:
        assert time.monotonic() < deadline, f"the mirror did not become {'live' if live else 'idle'}"
        await asyncio.sleep(0.01)
    return mirror


async def access_following(app: FastAPI, *, within: float = 5.0) -> None:
    """Wait until the app keeps copies of access inputs (backend/access/facts.py): at once in memory,
    on real servers once its MongoDB change stream is open."""
    facts = resources_of(app).access_facts
    deadline = time.monotonic() + within
    while not facts.live:
        assert time.monotonic() < deadline, "the app does not follow MongoDB's changes"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def another_instance(app: FastAPI) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A second instance of the API on the same MongoDB and Redis as `app` (real tier), once both
    follow Redis's generations and MongoDB's changes: for changes made through one and read
    through the other."""
    second = create_app(resources_of(app).settings)
    async with LifespanManager(second, startup_timeout=STARTUP_TIMEOUT, shutdown_timeout=30):
        for instance in (app, second):
            await mirror_following(instance)
            await access_following(instance)
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield second, client


DEFAULT_PASSWORD = "correct horse battery"


def cached_reads(app: FastAPI) -> CachedReads:
    """The app's cached-read fast path (built with the middleware stack on the first request): its
    `served` count tells a test whether a hit skipped routing, `loaded` whether a miss did."""
    layer: Any = app.middleware_stack
    while layer is not None and not isinstance(layer, CachedReads):
        layer = getattr(layer, "app", None)
    assert layer is not None, "no request has built the middleware stack yet"
    return layer


def problem(response: httpx.Response, status: int, error_code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem answer with this status and error_code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["error_code"] == error_code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@dataclass
class Actor:
    """A registered, logged-in user, with a client that sends their access token."""

    id: str
    email: str
    password: str
    display_name: str
    access_token: str
    refresh_token: str
    client: httpx.AsyncClient
    handle: str = ""  # as registered: chosen, or made from the email

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class UserFactory:
    """`await users.create()` registers and logs in a user through the API; `role="admin"` makes an admin."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self._app = app
        self._client = client
        self._clients: list[httpx.AsyncClient] = []
        self._count = 0

    async def create(
        self,
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        display_name: str | None = None,
        role: str = "user",
        handle: str | None = None,
    ) -> Actor:
        self._count += 1
        email = email or f"user{self._count}-{uuid.uuid4().hex[:6]}@example.com"
        display_name = display_name or f"User {self._count}"
        body = {"email": email, "password": password, "display_name": display_name}
        if handle is not None:
            body["handle"] = handle
        registered = await self._client.post("/api/v1/auth/register", json=body)
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["id"]
        if role != "user":
            await User.find_one(User.id == PydanticObjectId(user_id)).set({User.role: GlobalRole(role)})
        tokens = await self.login(email, password)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._app),
            base_url=BASE_URL,
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        self._clients.append(client)
        return Actor(
            id=user_id,
            email=email,
            password=password,
            display_name=display_name,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            client=client,
            handle=registered.json()["handle"],
        )

    async def login(self, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        response = await self._client.post(
            "/api/v1/auth/token", data={"username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


@pytest_asyncio.fixture
async def users(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[UserFactory]:
    """Makes logged-in users: `alice = await users.create(); await alice.client.get(...)`."""
    factory = UserFactory(app, client)
    try:
        yield factory
    finally:
        await factory.close()


@contextlib.asynccontextmanager
async def serve(app: FastAPI, *, lifespan: bool = True) -> AsyncIterator[str]:
    """Run the app under uvicorn on a free loopback port (for streams, which need a real server);
    yields its base URL. uvicorn runs the app's lifespan, unless `lifespan=False` says it already ran
    (the `live_server` fixture serves the `app` fixture's app so)."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="on" if lifespan else "off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest_asyncio.fixture
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """The `app` fixture's app served by uvicorn on a free loopback port (for streams and any client
    that needs a real socket): its base URL. The same app `client`, `users` and `team` talk to."""
    async with serve(app, lifespan=False) as url:
        yield url


@pytest_asyncio.fixture
async def factory(app: FastAPI) -> Factory:
    """Makes projects, members, tasks, comments and tokens through the services, without HTTP:
    `project = await factory.project(alice, members=[(bob, "viewer")])`; see testing/factories.py."""
    return Factory(app)


@pytest.fixture(name="problem")
def problem_fixture() -> Callable[[httpx.Response, int, str], dict[str, Any]]:
    """`problem(response, 404, "TASK_NOT_FOUND")`: asserts an RFC 9457 answer, returns its body."""
    return problem


@dataclass
class Team:
    """A project with one user in each role, and one user outside it."""

    owner: Actor
    admin: Actor
    member: Actor
    viewer: Actor
    outsider: Actor
    project: dict[str, Any]

    @property
    def project_url(self) -> str:
        return f"/api/v1/projects/{self.project['id']}"

    @property
    def tasks_url(self) -> str:
        return f"{self.project_url}/tasks"


async def make_team(users: UserFactory, key: str = "WEB") -> Team:
    """Project `key` ("Website") owned by Olive, with Ada (admin), Max (member) and Vic (viewer)."""
    owner = await users.create(display_name="Olive")
    project = (await owner.client.post("/api/v1/projects", json={"name": "Website", "key": key})).json()
    members: dict[str, Actor] = {}
    for role, name in (("admin", "Ada"), ("member", "Max"), ("viewer", "Vic")):
        members[role] = await users.create(display_name=name)
        url = f"/api/v1/projects/{project['id']}/members"
        added = await owner.client.post(url, json={"user_id": members[role].id, "role": role})
        assert added.status_code == 201, added.text
    return Team(owner, members["admin"], members["member"], members["viewer"], await users.create(), project)


@pytest_asyncio.fixture
async def team(users: UserFactory) -> Team:
    """A project with a user in each role: `await team.member.client.post(team.tasks_url, ...)`."""
    return await make_team(users)
