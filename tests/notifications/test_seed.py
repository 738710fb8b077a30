"""The demo seed shows watchers and notifications: Edsger watches tasks and hears of their status,
Ada has a few unread ones."""

import httpx
from fastapi import FastAPI

from backend.ops.seed import DEMO_PASSWORD, seed_demo


async def login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_the_demo_has_watchers_and_notifications(app: FastAPI, client: httpx.AsyncClient) -> None:
    await seed_demo(app, tasks_per_project=20)
    edsger = await login(client, "edsger@demo.tasklane.dev")
    ada = await login(client, "ada@demo.tasklane.dev")

    told = (await client.get("/api/v1/users/me/notifications", headers=edsger)).json()["items"]
    unread = (await client.get("/api/v1/users/me/notifications/unread-count", headers=ada)).json()["unread"]
    ada_kinds = {
        n["kind"] for n in (await client.get("/api/v1/users/me/notifications", headers=ada)).json()["items"]
    }

    assert len(told) >= 3  # three watched tasks in each of three projects, moved on by Grace (if not there)
    # Status changes of the tasks he watches; the seed's mentions (`@edsger` in descriptions and
    # comments) tell him too, and make him watch those tasks.
    assert "status_changed" in {n["kind"] for n in told}
    assert {n["kind"] for n in told} <= {"status_changed", "mentioned", "commented"}
    assert 1 <= unread <= 5
    assert ada_kinds & {"assigned", "commented"}
