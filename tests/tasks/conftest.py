from dataclasses import dataclass
from typing import Any

import pytest

from backend.testing import Actor, UserFactory


@dataclass
class Team:
    owner: Actor
    admin: Actor
    member: Actor
    viewer: Actor
    outsider: Actor
    project: dict[str, Any]

    @property
    def tasks_url(self) -> str:
        return f"/api/v1/projects/{self.project['id']}/tasks"


async def make_team(users: UserFactory, key: str = "WEB") -> Team:
    owner = await users.create(display_name="Olive")
    project = (await owner.client.post("/api/v1/projects", json={"name": "Website", "key": key})).json()
    members: dict[str, Actor] = {}
    for role, name in (("admin", "Ada"), ("member", "Max"), ("viewer", "Vic")):
        members[role] = await users.create(display_name=name)
        url = f"/api/v1/projects/{project['id']}/members"
        assert (
            await owner.client.post(url, json={"user_id": members[role].id, "role": role})
        ).status_code == 201
    return Team(owner, members["admin"], members["member"], members["viewer"], await users.create(), project)


@pytest.fixture
async def team(users: UserFactory) -> Team:
    return await make_team(users)
