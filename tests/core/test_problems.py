"""Every failure the app can produce is an RFC 9457 problem with error_code and request_id."""

from collections.abc import AsyncIterator

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from backend.core.config import Settings
from backend.core.http.routing import ApiRoute
from backend.main import create_app
from backend.testing import make_test_settings

SECRET_IN_EXCEPTION = "mongodb://admin:hunter2@db.internal:27017"


class Echo(BaseModel):
    title: str = Field(min_length=1, max_length=20)
    count: int = 0


probe = APIRouter(prefix="/probe", tags=["probe"], route_class=ApiRoute)


@probe.post("/echo", name="echo")
async def echo(data: Echo) -> Echo:
    return data


@probe.get("/boom", name="boom")
async def boom() -> None:
    raise RuntimeError(f"could not reach {SECRET_IN_EXCEPTION}")


@pytest.fixture
def settings() -> Settings:
    return make_test_settings(max_body_bytes=2048)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    application.include_router(probe)
    async with LifespanManager(application):
        yield application


def assert_problem(response: httpx.Response, status: int, error_code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["error_code"] == error_code
    assert body["type"] == f"urn:tasklane:error:{error_code}"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == response.request.url.path
    assert body["title"]
    assert body["detail"]
    return body


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")

    assert_problem(response, 404, "NOT_FOUND")


async def test_wrong_method_is_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health/live")

    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


async def test_malformed_json_is_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/echo", content=b'{"title": "a",', headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 422, "MALFORMED_JSON")
    assert "JSON" in str(body["detail"])


async def test_invalid_fields_are_422_with_field_errors_by_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/echo", json={"title": "", "count": "many"})

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    field_errors = body["field_errors"]
    assert isinstance(field_errors, dict)
    assert set(field_errors) == {"title", "count"}
    assert all(isinstance(m, str) for messages in field_errors.values() for m in messages)


async def test_wrong_content_type_is_415_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/echo", content=b'{"title": "a"}', headers={"content-type": "text/plain"}
    )

    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_json_suffix_media_types_are_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/echo", content=b'{"title": "a"}', headers={"content-type": "application/merge-patch+json"}
    )

    assert response.status_code == 200
    assert response.json() == {"title": "a", "count": 0}


async def test_body_over_the_limit_is_413_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/echo", json={"title": "a" * 4096})

    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_streamed_body_over_the_limit_is_413_problem(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 512

    response = await client.post(
        "/probe/echo", content=chunks(), headers={"content-type": "application/json"}
    )

    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_just_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/echo", json={"title": "ok", "count": 1})

    assert response.status_code == 200


async def test_internal_error_is_500_problem_that_leaks_nothing(client: httpx.AsyncClient) -> None:
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        response = await client.get("/probe/boom")

    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert set(body) == {"type", "title", "status", "detail", "instance", "error_code", "request_id"}
    logged = [entry for entry in logs if entry["event"] == "unhandled_exception"]
    assert len(logged) == 1
    assert logged[0]["exc_info"] is True
    assert logged[0]["request_id"] == body["request_id"]
