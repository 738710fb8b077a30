"""A mention tells the member mentioned, once, and makes them watch: in a comment, an edit that adds
the mention, a task's description when created (one at a time or in a batch) or changed. The actor
is never told of their own mention; someone outside the project mentioned stays text and hears
nothing."""

from typing import Any

from backend.testing import Team, UserFactory
from tests.notifications.helpers import new_task, notifications_of, watcher_ids


def kinds(items: list[dict[str, Any]]) -> list[str]:
    return [item["kind"] for item in items]


class TestComments:
    async def test_the_mentioned_member_is_told_and_watches(self, team: Team) -> None:
        task = await new_task(team, team.member)

        created = await team.member.client.post(
            f"{team.tasks_url}/{task['id']}/comments", json={"body": f"@{team.viewer.handle} look"}
        )

        assert created.status_code == 201, created.text
        (told,) = await notifications_of(team.viewer)
        assert told["kind"] == "mentioned"
        assert told["comment_id"] == created.json()["id"]
        assert told["actor"]["id"] == team.member.id
        assert team.viewer.id in await watcher_ids(team, task, team.viewer)

    async def test_an_edit_tells_only_whom_it_newly_mentions(self, team: Team) -> None:
        task = await new_task(team, team.member)
        url = f"{team.tasks_url}/{task['id']}/comments"
        comment = (await team.member.client.post(url, json={"body": f"@{team.viewer.handle}"})).json()

        edited = await team.member.client.patch(
            f"{url}/{comment['id']}", json={"body": f"@{team.viewer.handle} and @{team.admin.handle}"}
        )

        assert edited.status_code == 200, edited.text
        assert kinds(await notifications_of(team.viewer)) == ["mentioned"]  # not twice
        assert kinds(await notifications_of(team.admin)) == ["mentioned"]

    async def test_the_author_mentioning_themselves_is_not_told(self, team: Team) -> None:
        task = await new_task(team, team.member)

        await team.member.client.post(
            f"{team.tasks_url}/{task['id']}/comments", json={"body": f"note to @{team.member.handle}"}
        )

        assert await notifications_of(team.member) == []

    async def test_someone_outside_the_project_is_not_told(self, team: Team, users: UserFactory) -> None:
        outsider = await users.create(display_name="Eve")
        task = await new_task(team, team.member)

        await team.member.client.post(
            f"{team.tasks_url}/{task['id']}/comments", json={"body": f"@{outsider.handle} see"}
        )

        assert await notifications_of(outsider) == []


class TestTasks:
    async def test_a_new_task_tells_whom_its_description_mentions(self, team: Team) -> None:
        await new_task(team, team.member, description=f"for @{team.viewer.handle}")

        assert kinds(await notifications_of(team.viewer)) == ["mentioned"]

    async def test_assigned_and_mentioned_is_one_notification_as_assigned(self, team: Team) -> None:
        await new_task(team, team.member, description=f"@{team.admin.handle}", assignee_ids=[team.admin.id])

        assert kinds(await notifications_of(team.admin)) == ["assigned"]

    async def test_each_task_of_a_batch_tells_its_own_mentions(self, team: Team) -> None:
        response = await team.member.client.post(
            f"{team.tasks_url}/batch",
            json={
                "tasks": [
                    {"title": "one", "description": f"@{team.viewer.handle}"},
                    {"title": "two", "description": f"@{team.admin.handle} @{team.viewer.handle}"},
                ]
            },
        )

        assert response.status_code == 200, response.text
        assert kinds(await notifications_of(team.viewer)) == ["mentioned", "mentioned"]
        assert kinds(await notifications_of(team.admin)) == ["mentioned"]

    async def test_a_description_change_tells_whom_it_newly_mentions(self, team: Team) -> None:
        task = await new_task(team, team.member, description=f"@{team.viewer.handle}")

        changed = await team.member.client.patch(
            f"{team.tasks_url}/{task['id']}",
            json={"description": f"@{team.viewer.handle} @{team.admin.handle}"},
        )

        assert changed.status_code == 200, changed.text
        assert kinds(await notifications_of(team.viewer)) == ["mentioned"]
        assert kinds(await notifications_of(team.admin)) == ["mentioned"]
