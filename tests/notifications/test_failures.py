"""Notifying is not the change: when it fails, the stored change still answers success (a 5xx would
have the client retry and make the change twice)."""

import pytest
import structlog
from pymongo.errors import AutoReconnect

from backend.notifications.documents import Notification
from backend.notifications.repository import NotificationRepository
from backend.testing import Team
from tests.notifications.helpers import new_task, notifications_of


async def test_a_comment_is_created_when_notifying_fails(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    task = await new_task(team, team.member)  # Max watches it: the comment would notify him

    async def down(self: NotificationRepository, notifications: list[Notification]) -> None:
        raise AutoReconnect("primary stepped down at db-1.internal:27017")

    monkeypatch.setattr(NotificationRepository, "insert_many", down)
    url = f"{team.tasks_url}/{task['id']}/comments"
    with structlog.testing.capture_logs() as logs:
        response = await team.admin.client.post(url, json={"body": "Found it"})

    assert response.status_code == 201, response.text
    assert [c["body"] for c in (await team.admin.client.get(url)).json()["items"]] == ["Found it"]
    activity = (await team.admin.client.get(f"{team.project_url}/activity")).json()["items"]
    assert activity[0]["verb"] == "comment.created"
    (failed,) = [entry for entry in logs if entry["event"] == "change_listener_failed"]
    assert failed["error"] == "AutoReconnect"
    assert "db-1.internal" not in str(failed)  # the driver's message (host names) is not logged
    monkeypatch.undo()
    assert await notifications_of(team.member) == []
