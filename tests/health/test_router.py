from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from backend.core.config import Settings
from backend.core.storage.db import make_client
from backend.resources import resources_of
from backend.testing import make_test_settings, problem, real_servers


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_each_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    # Never `ok` on storage that loses its data: in memory, both stores are named.
    expected_in_memory = [] if real_servers() else ["mongodb", "redis"]
    assert body["in_memory"] == expected_in_memory
    assert body["status"] == ("ok" if real_servers() else "degraded")
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "mongodb": "ok",
        "redis": "ok",
    }


class TestReadyWithRedisDown:
    @pytest.fixture
    def settings(self) -> Settings:
        # Nothing listens on port 1: the connection is refused at once.
        return make_test_settings(redis_url="redis://127.0.0.1:1/0", health_timeout_seconds=0.5)

    async def test_ready_is_degraded_naming_redis(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/ready")

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["redis"]["status"] == "unavailable"
        assert body["checks"]["redis"]["error"] == "ConnectionError"
        assert body["checks"]["mongodb"]["status"] == "ok"


async def test_ready_is_503_naming_mongodb_when_it_goes_away(client: httpx.AsyncClient, app: FastAPI) -> None:
    # The app started on a working MongoDB; now its client points at a port where nothing listens.
    gone = make_test_settings(
        mongodb_url="mongodb://127.0.0.1:1/?directConnection=true", mongodb_server_selection_timeout_ms=300
    )
    resources = resources_of(app)
    working = resources.stores
    resources.started(replace(working, mongo=make_client(gone)))
    try:
        response = await client.get("/health/ready")
    finally:
        await resources.stores.mongo.close()
        resources.started(working)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["error_code"] == "DEPENDENCY_UNAVAILABLE"
    assert "mongodb" in body["detail"]
    assert body["checks"]["mongodb"]["status"] == "unavailable"
    assert "127.0.0.1" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/health/live")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{handler="/health/live",method="GET",status="2xx"}' in response.text


async def test_docs_page_loads_the_served_contract(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "/openapi.json" in response.text


@pytest.mark.parametrize(
    ("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
async def test_docs_load_their_assets_from_the_api_not_a_cdn(
    client: httpx.AsyncClient, page: str, script: str
) -> None:
    response = await client.get(page)
    html = response.text

    # Its own packaged scripts and styles only, also if a CDN link were injected into the page.
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert f'src="/docs/assets/{script}"' in html
    assert "cdn." not in html
    assert "googleapis" not in html
    asset = await client.get(f"/docs/assets/{script}")
    assert asset.status_code == 200
    assert "javascript" in asset.headers["content-type"]
    assert len(asset.content) > 500_000  # the real bundle, Swagger UI 5 (OpenAPI 3.1)


TOKEN = "scrape-me-9f2c41d7e0b3a8c6d5e4f3a2b1c0d9e8"


@pytest.mark.tasklane_settings(metrics_token=TOKEN)
async def test_metrics_token_keeps_metrics_to_the_scraper(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-0000000000"}, {"Authorization": TOKEN}):
        refused = await client.get("/metrics", headers=headers)
        body = problem(refused, 401, "METRICS_TOKEN_REQUIRED")
        assert TOKEN not in refused.text
        assert body["instance"] == "/metrics"
        assert refused.headers["www-authenticate"] == 'Bearer realm="tasklane-metrics"'

    scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert scraped.status_code == 200
    assert "http_requests_total" in scraped.text


def test_a_short_metrics_token_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN needs at least 32"):
        make_test_settings(metrics_token="short")
