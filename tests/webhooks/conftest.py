"""A local receiver of webhooks, and helpers to wait for deliveries."""

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request, Response

from backend.core.config import Settings
from backend.testing import Team, make_test_settings, serve

# Fast retries, a fast relay, and loopback targets allowed (the receiver is on 127.0.0.1).
WEBHOOK_SETTINGS: dict[str, Any] = {
    "worker_in_process": True,
    "webhook_allow_private_targets": True,
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_max_seconds": 0.2,
    "webhook_relay_interval_seconds": 0.05,
    "webhook_sweep_interval_seconds": 0.2,
    "webhook_timeout_seconds": 1.0,
}


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    marker = request.node.get_closest_marker("tasklane_settings")
    return make_test_settings(**{**WEBHOOK_SETTINGS, **(marker.kwargs if marker else {})})


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; answers each with the next of `answers` (then `default`). An answer
    is a status code, or ("sleep", seconds) to answer 200 only after that long."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    default: Any = 200
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        async with asyncio.timeout(within):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received


def receiver_app(receiver: Receiver) -> FastAPI:
    app = FastAPI()

    @app.post("/{path:path}")
    async def receive(request: Request) -> Response:
        receiver.received.append(Received(dict(request.headers), await request.body()))
        receiver.arrived.set()
        answer = receiver.answers.pop(0) if receiver.answers else receiver.default
        if isinstance(answer, tuple):
            await asyncio.sleep(answer[1])
            answer = 200
        return Response(f"answer {answer}", status_code=answer)

    return app


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    async with serve(receiver_app(found), lifespan=False) as url:
        found.url = f"{url}/hooks"
        yield found


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification written from the specification (not the signing package)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, sig) for sig in headers["webhook-signature"].split(" "))


def hooks_url(team: Team) -> str:
    return f"{team.project_url}/webhooks"


async def make_webhook(
    team: Team, url: str, events: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    body = {"url": url, "events": events or ["task.created", "task.updated", "task.deleted"], **fields}
    response = await team.admin.client.post(hooks_url(team), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliveries(client: httpx.AsyncClient, team: Team, hook: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"{hooks_url(team)}/{hook['id']}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def settled(team: Team, hook: dict[str, Any], count: int, within: float = 10.0) -> list[dict[str, Any]]:
    """The webhook's deliveries once `count` of them are done (succeeded or failed)."""
    async with asyncio.timeout(within):
        while True:
            found = await deliveries(team.admin.client, team, hook)
            done = [d for d in found if d["status"] in ("succeeded", "failed")]
            if len(done) >= count:
                return found
            await asyncio.sleep(0.05)
