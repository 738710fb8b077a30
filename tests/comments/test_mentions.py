"""`@handle` mentions in comments and task descriptions: resolved to project members when written, in
a constant number of database round trips; other handles stay text and mention nobody."""

from typing import Any

import pytest
from beanie import PydanticObjectId

from backend.testing import CommandLog, Team, UserFactory
from backend.users.handles import mentioned_handles
from backend.users.mentions import newly_mentioned


def mentioned(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["user_id"], m["handle"]) for m in body["mentions"]]


@pytest.fixture
async def task(team: Team) -> dict[str, Any]:
    created: dict[str, Any] = (await team.member.client.post(team.tasks_url, json={"title": "Login"})).json()
    return created


class TestComments:
    async def test_members_are_mentioned_in_the_order_written(self, team: Team, task: dict[str, Any]) -> None:
        body = f"@{team.admin.handle.upper()} and @{team.viewer.handle}, see (@{team.admin.handle})."

        response = await team.member.client.post(
            f"{team.tasks_url}/{task['id']}/comments", json={"body": body}
        )

        assert response.status_code == 201
        comment = response.json()
        assert mentioned(comment) == [
            (team.admin.id, team.admin.handle),
            (team.viewer.id, team.viewer.handle),
        ]
        assert comment["mentions"][0]["display_name"] == "Ada"
        assert comment["body"] == body  # the text stays as written
        listed = (await team.viewer.client.get(f"{team.tasks_url}/{task['id']}/comments")).json()
        assert listed["items"][0]["mentions"] == comment["mentions"]

    async def test_a_non_member_or_unknown_handle_stays_text(
        self, team: Team, task: dict[str, Any], users: UserFactory
    ) -> None:
        stranger = await users.create(handle="stranger")
        body = f"@{stranger.handle} @nobody_here {team.outsider.email} @{team.outsider.handle}"

        response = await team.member.client.post(
            f"{team.tasks_url}/{task['id']}/comments", json={"body": body}
        )

        assert response.json()["mentions"] == []

    async def test_an_edit_mentions_anew(self, team: Team, task: dict[str, Any]) -> None:
        url = f"{team.tasks_url}/{task['id']}/comments"
        comment = (await team.member.client.post(url, json={"body": f"@{team.admin.handle}"})).json()

        edited = await team.member.client.patch(
            f"{url}/{comment['id']}", json={"body": f"@{team.owner.handle}"}
        )

        assert mentioned(edited.json()) == [(team.owner.id, team.owner.handle)]

    async def test_a_handle_changed_later_shows_the_new_one(self, team: Team, task: dict[str, Any]) -> None:
        url = f"{team.tasks_url}/{task['id']}/comments"
        comment = (await team.member.client.post(url, json={"body": f"hey @{team.admin.handle}"})).json()

        await team.admin.client.patch("/api/v1/users/me", json={"handle": "ada_renamed"})

        again = (await team.member.client.get(f"{url}/{comment['id']}")).json()
        assert mentioned(again) == [(team.admin.id, "ada_renamed")]

    async def test_twenty_mentions_cost_what_one_does(
        self, team: Team, task: dict[str, Any], users: UserFactory, mongo_commands: CommandLog
    ) -> None:
        people = [await users.create(display_name=f"P{n}") for n in range(20)]
        for person in people:
            added = await team.owner.client.post(
                f"{team.project_url}/members", json={"user_id": person.id, "role": "viewer"}
            )
            assert added.status_code == 201
        url = f"{team.tasks_url}/{task['id']}/comments"
        await team.member.client.post(url, json={"body": "warm"})
        costs = []
        for body in (f"@{people[0].handle}", " ".join(f"@{p.handle}" for p in people)):
            mongo_commands.clear()
            response = await team.member.client.post(url, json={"body": body})
            assert response.status_code == 201
            costs.append(len(mongo_commands.commands))

        assert len(response.json()["mentions"]) == 20
        # The handles in one query; the names of the twenty in at most one more (none once cached).
        assert costs[1] <= costs[0] + 1, mongo_commands.commands
        handle_queries = [
            c for name, c in mongo_commands.commands if name == "find" and "handle" in str(c.get("filter"))
        ]
        assert len(handle_queries) == 1


class TestTasks:
    async def test_description_mentions_on_create_update_and_batch(self, team: Team) -> None:
        created = await team.member.client.post(
            team.tasks_url, json={"title": "t", "description": f"for @{team.viewer.handle} @unknown"}
        )
        task = created.json()
        assert mentioned(task) == [(team.viewer.id, team.viewer.handle)]
        assert task["mentions"][0]["display_name"] == "Vic"

        updated = await team.member.client.patch(
            f"{team.tasks_url}/{task['id']}", json={"description": f"now @{team.admin.handle}"}
        )
        assert mentioned(updated.json()) == [(team.admin.id, team.admin.handle)]
        untouched = await team.member.client.patch(f"{team.tasks_url}/{task['id']}", json={"title": "u"})
        assert mentioned(untouched.json()) == [(team.admin.id, team.admin.handle)]

        batch = await team.member.client.post(
            f"{team.tasks_url}/batch",
            json={"tasks": [{"title": "a", "description": f"@{team.owner.handle}"}, {"title": "b"}]},
        )
        results = batch.json()["results"]
        assert mentioned(results[0]["task"]) == [(team.owner.id, team.owner.handle)]
        assert results[1]["task"]["mentions"] == []

    async def test_an_outsider_handle_in_a_description_stays_text(self, team: Team) -> None:
        created = await team.member.client.post(
            team.tasks_url, json={"title": "t", "description": f"@{team.outsider.handle}"}
        )

        assert created.json()["mentions"] == []


class TestHandlesInText:
    @pytest.mark.parametrize(
        ("text", "handles"),
        [
            ("@Ada, then (@max) and @ada again", ["ada", "max"]),
            ("mail ada@example.com or @ada.b or x@max", []),
            ("end of sentence @bo_b.", ["bo_b"]),
            ("@a is too short, @" + "x" * 31 + " too long", []),
        ],
    )
    def test_mentions_stand_alone_and_count_once(self, text: str, handles: list[str]) -> None:
        assert mentioned_handles(text) == handles


def test_an_edit_notifies_only_the_newly_mentioned() -> None:
    ada, max_, vic = PydanticObjectId(), PydanticObjectId(), PydanticObjectId()

    assert newly_mentioned([ada, max_], [max_, vic, ada]) == [vic]
