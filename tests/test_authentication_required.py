"""No route answers without authentication except sign-up, login, refresh, health, metrics and docs."""

import re

import httpx
import pytest

from backend.main import create_app
from backend.testing import make_test_settings

PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
}
# Every operation the app serves (from its generated schema), plus the two routes kept out of it.
ROUTES = sorted(
    [
        (method.upper(), path)
        for path, item in create_app(make_test_settings()).openapi()["paths"].items()
        for method in item
    ]
    + [("GET", "/openapi.json"), ("GET", "/docs")]
)


def test_every_public_route_exists() -> None:
    assert set(ROUTES) >= PUBLIC


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in PUBLIC])
async def test_route_needs_authentication(client: httpx.AsyncClient, method: str, path: str) -> None:
    url = re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", path)

    response = await client.request(method, url, json={})

    assert response.status_code == 401, (method, path, response.text)
    assert response.json()["error_code"] == "NOT_AUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
