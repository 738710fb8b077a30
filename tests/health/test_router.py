import httpx
import pytest
from fastapi import FastAPI

from backend.core.config import Settings
from backend.testing import make_test_settings


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_each_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "mongodb": "ok",
        "redis": "ok",
    }


class TestReadyWithRedisDown:
    @pytest.fixture
    def settings(self) -> Settings:
        # Nothing listens on port 1: the connection is refused at once.
        return make_test_settings(redis_url="redis://127.0.0.1:1/0", health_timeout_seconds=0.5)

    async def test_ready_is_503_naming_redis(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/ready")

        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["error_code"] == "DEPENDENCY_UNAVAILABLE"
        assert "redis" in body["detail"]
        assert "mongodb" not in body["detail"]
        assert body["checks"]["redis"]["status"] == "unavailable"
        assert body["checks"]["mongodb"]["status"] == "ok"
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
