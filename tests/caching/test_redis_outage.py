"""With Redis gone mid-run, the API keeps answering from MongoDB (real-server tier)."""

import asyncio
import shutil
import socket
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from backend.core.config import Settings
from backend.testing import Team, make_test_settings, mirror_following


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def private_redis() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    binary = shutil.which("redis-server")
    assert binary, "the real-server tier needs redis-server"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process, port
    finally:
        process.kill()
        process.wait()


async def wait_for_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        await asyncio.sleep(0.05)


@pytest.fixture
async def settings(private_redis: tuple[subprocess.Popen[bytes], int]) -> Settings:
    _, port = private_redis
    await wait_for_port(port)
    return make_test_settings(redis_url=f"redis://127.0.0.1:{port}/0", redis_timeout_seconds=0.5)


@pytest.mark.real_servers
async def test_requests_succeed_after_redis_stops(
    private_redis: tuple[subprocess.Popen[bytes], int], team: Team, client: httpx.AsyncClient, app: FastAPI
) -> None:
    process, _ = private_redis
    await mirror_following(app)
    task = (await team.member.client.post(team.tasks_url, json={"title": "before"})).json()
    url = f"{team.tasks_url}/{task['id']}"
    await team.member.client.get(url)
    assert (await team.member.client.get(url)).headers["x-cache"] == "HIT"

    process.kill()
    process.wait()

    # Until the process hears its connection close, it may still answer from what it knew (nothing
    # changed); a write it makes meanwhile forgets what it changes.
    assert (await team.member.client.get(url)).status_code == 200
    await mirror_following(app, live=False)
    read = await team.member.client.get(url)
    assert read.status_code == 200
    assert read.headers["x-cache"] == "MISS"
    created = await team.member.client.post(
        team.tasks_url, json={"title": "during outage"}, headers={"Idempotency-Key": "k"}
    )
    assert created.status_code == 201
    listed = await team.member.client.get(team.tasks_url)
    assert [t["title"] for t in listed.json()["items"]] == ["during outage", "before"]
    login = await client.post(
        "/api/v1/auth/token", data={"username": team.member.email, "password": team.member.password}
    )
    assert login.status_code == 200
    assert (
        await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
    ).status_code == 200
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"


class TestLimitsDuringTheOutage:
    @pytest.fixture
    async def settings(self, private_redis: tuple[subprocess.Popen[bytes], int]) -> Settings:
        _, port = private_redis
        await wait_for_port(port)
        return make_test_settings(
            redis_url=f"redis://127.0.0.1:{port}/0",
            redis_timeout_seconds=0.5,
            rate_limit_anonymous="3/minute",
        )

    @pytest.mark.real_servers
    async def test_each_process_limits_on_its_own(
        self, private_redis: tuple[subprocess.Popen[bytes], int], client: httpx.AsyncClient
    ) -> None:
        process, _ = private_redis
        assert (await client.get("/api/v1/users/me")).headers["ratelimit-remaining"] == "2"

        process.kill()
        process.wait()

        statuses = [(await client.get("/api/v1/users/me")).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
