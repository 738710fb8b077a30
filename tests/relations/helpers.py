"""Relation tests' helpers: tasks made through HTTP, and a second project for cross-project cases."""

from dataclasses import dataclass
from typing import Any

import httpx

from backend.testing import Actor

Json = dict[str, Any]


def relations_url(task: Json) -> str:
    return f"/api/v1/projects/{task['project_id']}/tasks/{task['id']}/relations"


async def make_task(actor: Actor, project: Json, title: str = "Task") -> Json:
    created = await actor.client.post(f"/api/v1/projects/{project['id']}/tasks", json={"title": title})
    assert created.status_code == 201, created.text
    task: Json = created.json()
    return task


async def relate(actor: Actor, task: Json, type_: str, other: Json) -> httpx.Response:
    return await actor.client.post(relations_url(task), json={"type": type_, "task_id": other["id"]})


async def listed(actor: Actor, task: Json) -> list[tuple[str, str]]:
    """The task's relations as `actor` sees them: (type, other task's key) in order."""
    response = await actor.client.get(relations_url(task))
    assert response.status_code == 200, response.text
    return [(r["type"], r["task"]["key"]) for r in response.json()["items"]]


@dataclass
class Ops:
    """A second project, OPS, owned by the team's owner; `add` makes someone a member of it."""

    project: Json
    owner: Actor

    async def add(self, who: Actor, role: str = "member") -> None:
        added = await self.owner.client.post(
            f"/api/v1/projects/{self.project['id']}/members", json={"user_id": who.id, "role": role}
        )
        assert added.status_code == 201, added.text

    async def remove(self, who: Actor) -> None:
        removed = await self.owner.client.delete(f"/api/v1/projects/{self.project['id']}/members/{who.id}")
        assert removed.status_code == 204, removed.text
