"""Shared steps of the notification tests."""

from typing import Any

from backend.testing import Actor, Team

NOTIFICATIONS = "/api/v1/users/me/notifications"


async def notifications_of(who: Actor, **params: Any) -> list[dict[str, Any]]:
    response = await who.client.get(NOTIFICATIONS, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def unread_of(who: Actor) -> int:
    response = await who.client.get(f"{NOTIFICATIONS}/unread-count")
    assert response.status_code == 200, response.text
    unread: int = response.json()["unread"]
    return unread


async def new_task(team: Team, by: Actor, **fields: Any) -> dict[str, Any]:
    response = await by.client.post(team.tasks_url, json={"title": "Checkout breaks", **fields})
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def watcher_ids(team: Team, task: dict[str, Any], who: Actor) -> list[str]:
    response = await who.client.get(f"{team.tasks_url}/{task['id']}/watchers")
    assert response.status_code == 200, response.text
    return [w["user"]["id"] for w in response.json()["items"]]
