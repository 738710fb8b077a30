"""A live stream whose Redis fails after its answer started (a 503 can no longer be sent) ends with a
`retry` the EventSource obeys, not a cut connection and a traceback."""

import asyncio

import httpx
import pytest
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.activity.events import Subscription
from backend.testing import Team
from tests.activity.test_stream import live_team, served, wait_connected

__all__ = ["live_team", "served"]  # fixtures, imported to be found here


@pytest.mark.parametrize("stream", ["project", "yours"])
async def test_a_stream_whose_redis_fails_ends_with_a_retry(
    live_team: tuple[Team, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch, stream: str
) -> None:
    team, http = live_team
    url = f"{team.project_url}/events" if stream == "project" else "/api/v1/users/me/events"
    redis_gone = asyncio.Event()
    receive = Subscription.next

    async def next_message(self: Subscription, timeout: float) -> object:
        if redis_gone.is_set():
            raise RedisConnectionError("Connection closed by server.")
        return await receive(self, timeout)

    monkeypatch.setattr(Subscription, "next", next_message)

    with structlog.testing.capture_logs() as logs:
        async with http.stream("GET", url, headers=team.viewer.headers) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            await wait_connected(lines)
            redis_gone.set()
            async with asyncio.timeout(10):
                rest = [line async for line in lines]  # the answer ends

    assert ": live events are unavailable: reconnect" in rest, rest
    assert "retry: 5000" in rest, rest
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["stream_dependency_lost"]
    assert [e for e in logs if e["log_level"] in ("error", "critical")] == []
