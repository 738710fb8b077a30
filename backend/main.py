"""The application factory: settings, storage, middleware, error handlers, routers and the contract."""

import asyncio
import gc
import signal
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from pymongo import monitoring
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import Scope

from backend.access.middleware import CallerMiddleware, caller_of
from backend.activity.router import router as activity_router
from backend.attachments.router import UPLOAD_PATH
from backend.attachments.router import router as attachments_router
from backend.auth.router import router as auth_router
from backend.comments.router import router as comments_router
from backend.core.caching import keys
from backend.core.caching.fastpath import CachedReads
from backend.core.caching.generations import Generations
from backend.core.caching.mirror import KeyMirror
from backend.core.caching.responses import ResponseCache
from backend.core.caching.stores import CacheStore, MemoryStore, QuietStore, RedisStore
from backend.core.caching.values import JsonValues
from backend.core.cancellation import cancel_until_done
from backend.core.config import Settings, get_settings
from backend.core.http import openapi as openapi_doc
from backend.core.http.headers import RESPONSE_HEADERS
from backend.core.http.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from backend.core.http.openapi import build_openapi, load_spec, operation_id
from backend.core.http.problems import install_problem_handlers
from backend.core.http.routing import ApiRoute
from backend.core.logging import configure_logging
from backend.core.metrics import HttpMetrics, MongoCommandMetrics, record_resident_memory, worker_exited
from backend.core.ratelimit.limiter import RateLimiter
from backend.core.ratelimit.middleware import RateLimitMiddleware
from backend.core.ratelimit.shared_windows import SharedWindows
from backend.core.ratelimit.stores import MemoryWindows, RedisWindows
from backend.core.resources import STATE, Stores
from backend.core.storage.db import Mongo, connect, make_client
from backend.core.storage.redis import make_redis
from backend.documents import DOCUMENT_MODELS
from backend.health.router import router as health_router
from backend.labels.router import router as labels_router
from backend.migrations.runner import stamp_if_new
from backend.notifications.router import router as notifications_router
from backend.notifications.router import watchers_router
from backend.ops.seed import DEMO_PASSWORD, is_empty, seed_demo
from backend.projects.router import members_router
from backend.projects.router import router as projects_router
from backend.relations.router import router as relations_router
from backend.resources import AppResources, resources_of
from backend.stats.router import router as stats_router
from backend.tasks.router import by_key_router
from backend.tasks.router import router as tasks_router
from backend.users.router import router as users_router
from backend.webhooks.contract import MESSAGE_MODELS
from backend.webhooks.contract import webhooks as webhook_deliveries
from backend.webhooks.router import router as webhooks_router
from backend.worker import make_background

log = structlog.get_logger("tasklane")
DOCS_ASSETS = "/docs/assets"
# The docs pages load nothing from another host (ReDoc's bundle would fetch its logo from a CDN):
# their own inline start-up script, workers from blobs, images inline or from this server.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

DESCRIPTION = """\
Tasklane tracks projects and tasks: people sign up, create projects, invite members with roles,
and track tasks.

Every error is an RFC 9457 problem (`application/problem+json`) with a stable `error_code`
and the `request_id` of the request, also sent as the `X-Request-ID` header. While the database is
unreachable, every operation answers 503 `SERVICE_UNAVAILABLE` with `Retry-After`.

Each login is a session (`/users/me/sessions`); ending it (logout, a reused refresh token, a
password change for the other sessions, a disabled account) ends all its access tokens at once.

Display names shown inside other resources (assignees, members, activity) can lag a rename by up to
the cache lifetime (`CACHE_TTL_SECONDS`, 60 s by default) plus 5 seconds.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    resources = resources_of(app)
    settings = resources.settings
    mongo = await connect(
        settings, DOCUMENT_MODELS, listeners=[*resources.command_listeners, MongoCommandMetrics()]
    )
    # A database with no data yet starts at the latest shape; any other must be migrated by ops.
    await stamp_if_new(mongo.database)
    redis = make_redis(settings)
    background: list[Coroutine[Any, Any, None]] = [_record_memory()]
    # Copies of access inputs are kept only while MongoDB reports every change to them. The change
    # stream has a client of its own: its polls are no request's round trips (tests count those).
    feed: Mongo | None = None
    if mongo.in_memory:
        resources.access_facts.follow_local(mongo)
    else:
        feed = make_client(settings)
        background.append(resources.access_facts.follow(feed.database))
    mirror: KeyMirror | None = None
    if settings.redis_url is None:
        limiter = RateLimiter(MemoryWindows())
        store: CacheStore = MemoryStore()
    else:
        mirror = KeyMirror(keys.MIRRORED)
        windows = SharedWindows(RedisWindows(redis))
        # While Redis is down, each process limits on its own: looser than shared limits, but limits.
        limiter = RateLimiter(windows, fallback=MemoryWindows())
        store = RedisStore(redis, mirror)
        background += [mirror.follow(redis), windows.run()]
    quiet = QuietStore(store)
    responses = ResponseCache(quiet, settings.cache_ttl_seconds, enabled=settings.response_cache_enabled)
    if mirror is not None:
        mirror.on_forget_all.append(responses.forget_recent)
    resources.started(
        Stores(
            mongo=mongo,
            redis=redis,
            responses=responses,
            generations=Generations(quiet, settings.cache_ttl_seconds),
            values=JsonValues(quiet, settings.cache_ttl_seconds),
            rate_limiter=limiter,
            key_mirror=mirror,
        )
    )
    tasks = [asyncio.create_task(job) for job in background]
    resources.background = make_background(resources)
    if settings.runs_worker_in_process:
        await resources.background.run_worker(resources)
    if mongo.in_memory:
        log.warning("storage", mongodb="in-memory", detail="MONGODB_URL is not set: data is lost on exit")
    if settings.in_memory_redis:
        log.warning(
            "storage", redis="in-process", detail="REDIS_URL is not set: cache and limits are per process"
        )
    if settings.demo_data and await is_empty(app):
        logins = await seed_demo(app)
        emails = ", ".join(login.email for login in logins)
        log.warning("demo_data", detail=f"log in as any of {emails} with the demo password {DEMO_PASSWORD}")
    log.info("started", environment=settings.environment.value)
    # What exists now (modules, routes, models, schemas: about 150k objects) lives as long as the
    # process. Out of the cyclic collector's reach, a full collection no longer walks it: 61 ms ->
    # ~0 (measured), a pause of the event loop that kept requests unread while they arrived.
    gc.freeze()
    try:
        with resources.drain.on_signals():
            yield
    finally:
        gc.unfreeze()  # a process that runs another app after this one (tests) collects these again
        await _within(resources.background.stop(), "background", extra=settings.webhook_timeout_seconds)
        await _within(cancel_until_done(tasks), "tasks")
        worker_exited()
        await _within(redis.aclose(), "redis")
        if feed is not None:
            await _within(feed.close(), "access feed")
        await _within(mongo.close(), "mongodb")


async def run_worker(settings: Settings) -> None:
    """`tasklane worker`: the app's lifespan (storage, queue, the worker) with no HTTP server,
    until SIGTERM or SIGINT; attempts under way get the webhook timeout to finish."""
    app = create_app(settings.model_copy(update={"worker_in_process": True}))
    stop = asyncio.Event()
    async with lifespan(app):
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker_ready")
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


async def _record_memory() -> None:
    # Every worker's memory, also of those that answer no scrape (multiprocess mode).
    while True:
        record_resident_memory()
        await asyncio.sleep(5)


SHUTDOWN_STEP_SECONDS = 10.0


async def _within(step: Coroutine[Any, Any, None], name: str, extra: float = 0.0) -> None:
    """One step of shutting down, given SHUTDOWN_STEP_SECONDS (plus `extra`): a step that overruns
    is logged by name and left behind, so the process (or the next test's app) is not held up by
    it. Seen on PyMongo's async stack in CI: a webhook test's app took over 30 s to stop, now and
    then; the step was `background`, whose loops survived a lost cancellation (core/cancellation.py)."""
    seconds = SHUTDOWN_STEP_SECONDS + extra
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.warning("shutdown_step_overran", step=name, seconds=seconds)
        task.cancel()
        return
    task.result()  # its own failure, if any, is the lifespan's


def create_app(
    settings: Settings | None = None, *, command_listeners: Sequence[monitoring.CommandListener] = ()
) -> FastAPI:
    """The app. `command_listeners` observe every MongoDB command (tests count and record them)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    app = FastAPI(
        title="Tasklane API",
        version="4.0.0",
        description=DESCRIPTION,
        license_info={
            "name": "Proprietary: all rights reserved",
            "identifier": "LicenseRef-Tasklane-Proprietary",
        },
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        # Tasklane reports through Prometheus and its logs. FastAPI's OpenTelemetry hooks would act
        # only under a configured OTel SDK, but check for one on every request (4% of a cache hit).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.router.route_class = ApiRoute
    resources = AppResources(settings, list(command_listeners))
    setattr(app.state, STATE, resources)
    install_problem_handlers(app)
    app.include_router(health_router)
    routers = (
        auth_router,
        users_router,
        projects_router,
        members_router,
        tasks_router,
        by_key_router,
        comments_router,
        attachments_router,
        relations_router,
        labels_router,
        activity_router,
        stats_router,
        watchers_router,
        notifications_router,
        webhooks_router,
    )
    for router in routers:
        app.include_router(router)
    app.webhooks.include_router(webhook_deliveries)  # requests Tasklane sends, in the contract
    setattr(app.state, openapi_doc.MESSAGE_MODELS, MESSAGE_MODELS)
    _install_contract(app)

    # Uploads stream past the limit: they count their bytes against their own limits as they arrive.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, streamed=(UPLOAD_PATH,))
    # Inside the rate limit (a hit counts) and outside routing (a hit skips it).
    app.add_middleware(CachedReads)
    app.add_middleware(RateLimitMiddleware, settings=settings, caller_key=_rate_limit_key)
    # Before everything that reads the caller: the limiter, the fast path and the routes.
    app.add_middleware(CallerMiddleware, authenticator=resources.authenticator)
    # Ids, the access log, metrics and the last-resort 500 cover all else ...
    app.add_middleware(
        RequestContextMiddleware, metrics=HttpMetrics(resources.metrics_registry), drain=resources.drain
    )
    # ... and CORS covers even those answers: a browser on another origin reads their error_code
    # and Retry-After. Every documented header is readable (the safelisted ones already are).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[name for name in RESPONSE_HEADERS if name not in ("Cache-Control", "Vary")],
    )
    return app


def _rate_limit_key(scope: Scope) -> str | None:
    caller = caller_of(scope)
    return None if caller is None else caller.rate_limit_key


def _install_contract(app: FastAPI) -> None:
    """The app generates its schema for the drift check, and serves the committed file to clients.

    The endpoints are module functions reading the app from the request, not closures over it:
    FastAPI caches facts about each endpoint function process-wide (an lru_cache keyed by the
    function), so a closure kept every app ever made alive: the test suite, which makes an app per
    test, grew to 775 MB."""
    generated: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not generated:
            generated.update(build_openapi(app))
        return generated

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_api_route("/openapi.json", _contract, include_in_schema=False, name="contract")
    # The documentation pages' scripts and styles come from an installed package, not a CDN.
    assets = Path(str(files("fastapi_offline") / "static"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")
    app.add_api_route("/docs", _docs, include_in_schema=False, name="docs")
    app.add_api_route("/redoc", _redoc, include_in_schema=False, name="redoc")


_SERVED_CONTRACT = "served_contract"


async def _contract(request: Request) -> JSONResponse:
    """The committed contract (the generated one when the file is absent), read once per app."""
    app: FastAPI = request.app
    served: dict[str, Any] | None = getattr(app.state, _SERVED_CONTRACT, None)
    if served is None:
        path = resources_of(app).settings.openapi_spec_path
        served = load_spec(path) if path.exists() else app.openapi()
        setattr(app.state, _SERVED_CONTRACT, served)
    return JSONResponse(served)


async def _docs(request: Request) -> HTMLResponse:
    return _with_policy(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Tasklane API docs",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )
    )


async def _redoc(request: Request) -> HTMLResponse:
    return _with_policy(
        get_redoc_html(
            openapi_url="/openapi.json",
            title="Tasklane API reference",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
    )


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    """A documentation page may load only its own packaged scripts and styles."""
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
