"""With Redis unreachable, a live stream (yours or a project's) cannot be subscribed: it answers 503
with Retry-After before anything is streamed, so the client retries (never a 200 that ends at once)."""

import httpx
import pytest
import structlog

from backend.core.config import Settings
from backend.testing import Team, make_test_settings
from tests.activity.test_stream import live_team, served

__all__ = ["live_team", "served"]  # fixtures, imported to be found here


@pytest.fixture
def settings() -> Settings:
    return make_test_settings(redis_url="redis://127.0.0.1:1/0", health_timeout_seconds=0.5)


async def test_streams_answer_503_while_redis_is_down(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    for url in ("/api/v1/users/me/events", f"{team.project_url}/events"):
        with structlog.testing.capture_logs() as logs:
            response = await http.get(url, headers=team.viewer.headers)

        assert response.status_code == 503, (url, response.text)
        assert response.json()["error_code"] == "SERVICE_UNAVAILABLE"
        assert response.headers["Retry-After"] == "5"
        assert [e["event"] for e in logs if e["log_level"] in ("error", "critical")] == [], logs
