"""Endpoints for load balancers, orchestrators and Prometheus."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import PlainTextResponse, Response

from backend.core.dependencies import MongoDep, RedisDep, SettingsDep
from backend.core.http.drain import ShuttingDown
from backend.core.http.errors import error_responses
from backend.core.http.openapi import OPTIONAL_SECURITY
from backend.core.http.routing import ApiRoute
from backend.core.metrics import exposition, record_resident_memory
from backend.health.errors import DependencyUnavailable, MetricsTokenRequired, MigrationsPending
from backend.health.schemas import Liveness, Readiness
from backend.health.service import HealthService
from backend.resources import resources_of

router = APIRouter(tags=["health"], route_class=ApiRoute)


async def get_health_service(
    mongo: MongoDep, redis: RedisDep, settings: SettingsDep, request: Request
) -> HealthService:
    report = resources_of(request.app).index_report
    return HealthService(
        mongo, redis, settings.health_timeout_seconds, report, redis_in_memory=settings.in_memory_redis
    )


HealthServiceDep = Annotated[HealthService, Depends(get_health_service)]


@router.get("/health/live", name="live")
async def live() -> Liveness:
    """The process is up and serving. Needs no dependency; restart the process when this fails."""
    return Liveness()


@router.get(
    "/health/ready",
    name="ready",
    responses=error_responses(DependencyUnavailable, MigrationsPending, ShuttingDown),
)
async def ready(health: HealthServiceDep) -> Readiness:
    """MongoDB and Redis answer a ping within `HEALTH_TIMEOUT_SECONDS`.

    MongoDB down: 503 (take the instance out of the load balancer). Redis down: 200 with status
    `degraded` (answers still come, from MongoDB, without cache and with per-process limits). A
    store in memory (`in_memory`) is `degraded` too: never `ok` on storage that loses its data.
    Migrations pending: 503 `MIGRATIONS_PENDING` naming them (`tasklane migrate up`). Draining after
    SIGTERM: 503 `SHUTTING_DOWN`.
    """
    return await health.readiness()


metrics_scheme = HTTPBearer(
    scheme_name="MetricsToken",
    auto_error=False,
    description="`METRICS_TOKEN`, when the server sets one (Prometheus: `authorization.credentials_file`).",
)


async def metrics_scraper(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(metrics_scheme)],
    settings: SettingsDep,
) -> None:
    """With METRICS_TOKEN set, only a scraper that sends it reads the metrics."""
    expected = settings.metrics_token
    if expected is None:
        return
    sent = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(sent.encode(), expected.get_secret_value().encode()):
        raise MetricsTokenRequired()


@router.get(
    "/metrics",
    name="metrics",
    response_class=PlainTextResponse,
    dependencies=[Depends(metrics_scraper)],
    responses={
        200: {"description": "Prometheus text exposition format (version 0.0.4)."},
        **error_responses(MetricsTokenRequired),
    },
    # The token, or nothing: which one depends on the server's METRICS_TOKEN.
    openapi_extra={OPTIONAL_SECURITY: True},
)
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests, MongoDB commands and connections, dependency failures,
    cache hits, rate-limit refusals, open streams, worker memory; summed over every worker."""
    registry = resources_of(request.app).metrics_registry
    record_resident_memory()
    return Response(exposition(registry), media_type=CONTENT_TYPE_LATEST)
