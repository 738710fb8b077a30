"""SIGTERM drains: in-flight requests finish, streams end with a reconnect hint, new requests are
refused cleanly, and the process exits within DRAIN_TIMEOUT_SECONDS."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from fastapi import FastAPI

from backend.resources import resources_of
from backend.testing import Team, problem


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_while_draining_new_requests_and_readiness_answer_503(app: FastAPI, team: Team) -> None:
    resources_of(app).drain.begin()

    refused = await team.member.client.get(team.tasks_url)
    ready = await team.member.client.get("/health/ready")
    live = await team.member.client.get("/health/live")

    problem(refused, 503, "SHUTTING_DOWN")
    assert refused.headers["connection"] == "close"
    assert refused.headers["retry-after"] == "1"
    problem(ready, 503, "SHUTTING_DOWN")
    assert live.status_code == 200  # alive: the orchestrator waits for the drain


@pytest.mark.skipif(sys.platform == "win32", reason="signals")
@pytest.mark.in_memory_mongodb
async def test_sigterm_lets_in_flight_writes_finish_and_ends_streams_with_a_reconnect_hint() -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("MONGODB_URL", "REDIS_URL")},
        "DRAIN_TIMEOUT_SECONDS": "10",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ANONYMOUS": "10000/minute",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "tasklane serve did not start"
                    await asyncio.sleep(0.2)
            headers = await _owner_headers(http)
            project = (
                await http.post("/api/v1/projects", json={"name": "D", "key": "DRN"}, headers=headers)
            ).json()

            async with http.stream(
                "GET", f"/api/v1/projects/{project['id']}/events", headers=headers
            ) as stream:
                lines = stream.aiter_lines()
                async for line in lines:
                    if line == ": connected":
                        break
                # Registrations hash passwords with production costs: tens of them are in flight.
                writes = [asyncio.create_task(_register(http)) for _ in range(20)]
                await asyncio.sleep(0.1)
                server.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                async with asyncio.timeout(5):
                    rest = [line async for line in lines]
                statuses = await asyncio.gather(*writes)

        assert any(line.startswith("retry: 250") for line in rest), rest
        # Every write that was in flight finished (none was reset: gather would raise). One the
        # server had not read yet when the signal came (a loaded machine) is refused cleanly, as any
        # new request while draining: a 503 SHUTTING_DOWN can only come before a request runs.
        assert set(statuses) <= {(201, None), (503, "SHUTTING_DOWN")}, statuses
        assert (201, None) in statuses, statuses
        # uvicorn re-raises the SIGTERM once it has shut down gracefully: "ended by SIGTERM".
        assert server.wait(timeout=15) == -signal.SIGTERM
        assert time.monotonic() - signalled < 10
    finally:
        if server.poll() is None:
            server.kill()


async def _owner_headers(http: httpx.AsyncClient) -> dict[str, str]:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    await http.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery", "display_name": "O"},
    )
    token = (
        await http.post("/api/v1/auth/token", data={"username": email, "password": "correct horse battery"})
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def _register(http: httpx.AsyncClient) -> tuple[int, str | None]:
    """The status, and the error code of a refusal."""
    email = f"w-{uuid.uuid4().hex[:10]}@example.com"
    response = await http.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery", "display_name": "W"},
    )
    code = response.json().get("error_code") if response.status_code >= 400 else None
    return response.status_code, code
