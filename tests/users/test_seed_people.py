"""The demo seed shows people with handles, mentions, and one person's tasks across projects."""

import httpx
from fastapi import FastAPI

from backend.ops.seed import DEMO_PASSWORD, seed_demo


async def test_the_demo_has_handles_mentions_and_tasks_across_projects(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed_demo(app, tasks_per_project=20)
    token = await client.post(
        "/api/v1/auth/token", data={"username": "ada@demo.tasklane.dev", "password": DEMO_PASSWORD}
    )
    ada = {"Authorization": f"Bearer {token.json()['access_token']}"}

    me = (await client.get("/api/v1/users/me", headers=ada)).json()
    tasks = (await client.get("/api/v1/tasks?limit=100&include_total=true", headers=ada)).json()

    assert me["handle"] == "ada"
    assert tasks["total"] == 60
    assert len({t["project_id"] for t in tasks["items"]}) == 3
    assert any(t["mentions"] for t in tasks["items"])
