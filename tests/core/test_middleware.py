import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.core.config import Settings
from backend.testing import UserFactory, make_test_settings


async def test_generated_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert len(response.headers["x-request-id"]) == 32


async def test_safe_client_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "checkout-42:retry.1"})

    assert response.headers["x-request-id"] == "checkout-42:retry.1"


@pytest.mark.parametrize("unsafe", ["a" * 129, "has space", "new\u00e9line", "<script>", ""])
async def test_unsafe_client_request_id_is_replaced(client: httpx.AsyncClient, unsafe: str) -> None:
    response = await client.get("/health/live", headers={b"X-Request-ID": unsafe.encode("utf-8")})

    assert response.headers["x-request-id"] != unsafe
    assert len(response.headers["x-request-id"]) == 32


async def test_request_id_is_echoed_on_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere", headers={"X-Request-ID": "trace-me"})

    assert response.headers["x-request-id"] == "trace-me"
    assert response.json()["request_id"] == "trace-me"


@pytest.mark.tasklane_settings(log_level="INFO")
async def test_one_json_access_line_per_request(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get("/health/live", headers={"X-Request-ID": "log-me"})

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["event"] == "request"]
    assert len(access) == 1
    assert access[0]["request_id"] == "log-me"
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/health/live"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0
    assert access[0]["client"] == "127.0.0.1"
    assert "user_id" not in access[0]
    # ISO 8601 in UTC, as log shippers parse it.
    logged_at = datetime.fromisoformat(access[0]["timestamp"])
    assert access[0]["timestamp"].endswith("Z")
    assert logged_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - logged_at) < timedelta(minutes=1)


@pytest.mark.tasklane_settings(log_level="INFO")
async def test_the_access_line_names_the_user_and_user_agent_and_no_secret(
    users: UserFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    alice = await users.create()
    capsys.readouterr()

    await alice.client.get("/api/v1/users/me", headers={"User-Agent": "Tracker/2.1 (iOS)"})

    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line["event"] == "request"]
    assert (access["user_id"], access["user_agent"], access["client"]) == (
        alice.id,
        "Tracker/2.1 (iOS)",
        "127.0.0.1",
    )
    assert alice.access_token not in output


class TestCors:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_test_settings(cors_origins="https://app.example.com, https://admin.example.com")

    async def test_allowed_origin_gets_cors_headers(self, client: httpx.AsyncClient) -> None:
        response = await client.options(
            "/health/live",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
        )

        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"

    async def test_other_origin_gets_none(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live", headers={"Origin": "https://evil.example.com"})

        assert "access-control-allow-origin" not in response.headers
