"""`GET /api/v1/tasks`: the tasks of every project the caller is a member of, with a project list's
filters, sorts and cursors, in a constant number of database round trips, cached per caller and never
showing a project the caller has left."""

import uuid
from typing import Any

import pytest

from backend.testing import Actor, CommandLog, Team, UserFactory, make_team, problem

TASKS = "/api/v1/tasks"


def uncached(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}_budget={uuid.uuid4().hex}"


async def project(owner: Actor, key: str, *members: Actor) -> dict[str, Any]:
    created: dict[str, Any] = (
        await owner.client.post("/api/v1/projects", json={"name": f"Project {key}", "key": key})
    ).json()
    for member in members:
        added = await owner.client.post(
            f"/api/v1/projects/{created['id']}/members", json={"user_id": member.id, "role": "member"}
        )
        assert added.status_code == 201, added.text
    return created


async def task(actor: Actor, project_id: str, **fields: Any) -> dict[str, Any]:
    response = await actor.client.post(f"/api/v1/projects/{project_id}/tasks", json=fields)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [t["title"] for t in response.json()["items"]]


@pytest.fixture
async def two(team: Team) -> dict[str, Any]:
    """Max is a member of WEB (the team's) and of APP; the outsider has a project of their own."""
    app = await project(team.owner, "APP", team.member)
    own = await project(team.outsider, "OWN")
    await task(team.member, team.project["id"], title="Web one", assignee_ids=[team.member.id])
    await task(team.member, app["id"], title="App one", labels=["bug"], status="todo")
    await task(team.outsider, own["id"], title="Outsider secret")
    return {"app": app, "own": own}


class TestListing:
    async def test_lists_the_tasks_of_every_project_of_the_caller_only(
        self, team: Team, two: dict[str, Any]
    ) -> None:
        response = await team.member.client.get(TASKS)

        assert titles(response) == ["App one", "Web one"]
        assert {t["project_id"] for t in response.json()["items"]} == {two["app"]["id"], team.project["id"]}
        assert titles(await team.viewer.client.get(TASKS)) == ["Web one"]
        assert titles(await team.outsider.client.get(TASKS)) == ["Outsider secret"]

    async def test_a_caller_in_no_project_gets_an_empty_page(self, users: UserFactory) -> None:
        loner = await users.create()

        response = await loner.client.get(f"{TASKS}?include_total=true")

        assert response.json() == {"items": [], "next_cursor": None, "total": 0}

    async def test_filters_as_a_project_list_does(self, team: Team, two: dict[str, Any]) -> None:
        member = team.member.client

        assert titles(await member.get(f"{TASKS}?assignee=me")) == ["Web one"]
        assert titles(await member.get(f"{TASKS}?assignee=none")) == ["App one"]
        assert titles(await member.get(f"{TASKS}?status=todo")) == ["App one"]
        assert titles(await member.get(f"{TASKS}?label=bug")) == ["App one"]
        assert titles(await member.get(f"{TASKS}?q=web")) == ["Web one"]
        counted = (await member.get(f"{TASKS}?include_total=true&limit=1")).json()
        assert counted["total"] == 2
        assert len(counted["items"]) == 1

    async def test_search_by_key_names_the_task_of_that_project_in_any_case(
        self, team: Team, two: dict[str, Any]
    ) -> None:
        member = team.member.client

        assert titles(await member.get(f"{TASKS}?q=app-1")) == ["App one"]
        assert titles(await member.get(f"{TASKS}?q=WEB-1")) == ["Web one"]
        assert sorted(titles(await member.get(f"{TASKS}?q=web-1 App-1"))) == ["App one", "Web one"]
        # Another's project key is words here: OWN-1 names nothing Max may see.
        assert titles(await member.get(f"{TASKS}?q=OWN-1")) == []

    async def test_project_id_narrows_to_those_projects(self, team: Team, two: dict[str, Any]) -> None:
        app_id, web_id = two["app"]["id"], team.project["id"]

        assert titles(await team.member.client.get(f"{TASKS}?project_id={app_id}")) == ["App one"]
        both = await team.member.client.get(f"{TASKS}?project_id={app_id}&project_id={web_id}")
        assert titles(both) == ["App one", "Web one"]

    async def test_project_id_of_a_project_not_joined_is_404(self, team: Team, two: dict[str, Any]) -> None:
        response = await team.member.client.get(f"{TASKS}?project_id={two['own']['id']}")

        problem(response, 404, "PROJECT_NOT_FOUND")
        assert "Outsider" not in response.text

    async def test_pages_with_cursors_across_projects(self, team: Team, two: dict[str, Any]) -> None:
        for i in range(3):
            await task(team.member, two["app"]["id"], title=f"a{i}", priority=1 + i)
            await task(team.member, team.project["id"], title=f"w{i}", priority=1 + i)
        seen: list[str] = []
        url: str | None = f"{TASKS}?sort=priority&limit=3"
        while url:
            page = (await team.member.client.get(url)).json()
            seen += [t["title"] for t in page["items"]]
            url = (
                f"{TASKS}?sort=priority&limit=3&cursor={page['next_cursor']}" if page["next_cursor"] else None
            )

        assert len(seen) == len(set(seen)) == 8
        assert seen[:2] in (["App one", "Web one"], ["Web one", "App one"])  # priority 0 first
        assert {seen[2], seen[3]} == {"a0", "w0"}

    async def test_a_cursor_of_another_list_is_refused(self, team: Team, two: dict[str, Any]) -> None:
        await task(team.member, two["app"]["id"], title="more")
        first = (await team.member.client.get(f"{TASKS}?limit=1")).json()

        response = await team.member.client.get(f"{TASKS}?limit=1&status=done&cursor={first['next_cursor']}")

        problem(response, 422, "VALIDATION_FAILED")

    async def test_needs_authentication(self, client: Any) -> None:
        problem(await client.get(TASKS), 401, "NOT_AUTHENTICATED")


class TestCache:
    async def test_second_read_is_a_hit_and_a_write_in_any_project_ends_it(
        self, team: Team, two: dict[str, Any]
    ) -> None:
        assert (await team.member.client.get(TASKS)).headers["x-cache"] == "MISS"
        assert (await team.member.client.get(TASKS)).headers["x-cache"] == "HIT"

        await task(team.owner, two["app"]["id"], title="Fresh")

        response = await team.member.client.get(TASKS)
        assert response.headers["x-cache"] == "MISS"
        assert titles(response)[0] == "Fresh"

    async def test_entries_are_per_caller(self, team: Team, two: dict[str, Any]) -> None:
        await team.member.client.get(TASKS)

        response = await team.admin.client.get(TASKS)

        assert response.headers["x-cache"] == "MISS"
        assert titles(response) == ["Web one"]

    async def test_a_removed_member_stops_seeing_the_project_even_while_cached(
        self, team: Team, two: dict[str, Any]
    ) -> None:
        app_id = two["app"]["id"]
        assert titles(await team.member.client.get(TASKS)) == ["App one", "Web one"]
        assert (await team.member.client.get(TASKS)).headers["x-cache"] == "HIT"

        removed = await team.owner.client.delete(f"/api/v1/projects/{app_id}/members/{team.member.id}")
        assert removed.status_code == 204

        response = await team.member.client.get(TASKS)
        assert titles(response) == ["Web one"]
        assert response.headers["x-cache"] == "MISS"
        assert "App one" not in (await team.member.client.get(f"{TASKS}?q=app-1")).text
        problem(await team.member.client.get(f"{TASKS}?project_id={app_id}"), 404, "PROJECT_NOT_FOUND")

    async def test_a_new_member_sees_the_project_at_once(self, team: Team, two: dict[str, Any]) -> None:
        assert titles(await team.viewer.client.get(TASKS)) == ["Web one"]

        added = await team.owner.client.post(
            f"/api/v1/projects/{two['app']['id']}/members", json={"user_id": team.viewer.id, "role": "viewer"}
        )
        assert added.status_code == 201

        assert titles(await team.viewer.client.get(TASKS)) == ["App one", "Web one"]

    async def test_a_new_project_of_the_caller_is_listed_at_once(
        self, team: Team, two: dict[str, Any]
    ) -> None:
        await team.member.client.get(TASKS)
        mine = await project(team.member, "MAX")
        await task(team.member, mine["id"], title="Mine")

        assert titles(await team.member.client.get(TASKS))[0] == "Mine"


class TestRoundTrips:
    @pytest.mark.parametrize("projects", [1, 8])
    async def test_the_same_round_trips_whatever_the_number_of_projects(
        self, users: UserFactory, mongo_commands: CommandLog, projects: int
    ) -> None:
        team = await make_team(users)
        for n in range(projects - 1):
            other = await project(team.owner, f"P{n}", team.member)
            await task(team.member, other["id"], title=f"t{n}", assignee_ids=[team.member.id])
        await task(team.member, team.project["id"], title="web", assignee_ids=[team.member.id, team.admin.id])
        await team.member.client.get(uncached(TASKS))  # warm: the account and memberships are known
        mongo_commands.clear()

        response = await team.member.client.get(uncached(f"{TASKS}?include_total=true&q=t0 web"))

        assert response.status_code == 200
        # The page, the count, the names of assignees the process does not follow: never per project.
        assert len(mongo_commands.commands) <= 3, mongo_commands.commands
        finds = [c for name, c in mongo_commands.commands if name == "find" and c.get("find") == "tasks"]
        assert len(finds) == 1

    async def test_a_hit_takes_no_round_trip(
        self, team: Team, two: dict[str, Any], mongo_commands: CommandLog
    ) -> None:
        await team.member.client.get(TASKS)
        mongo_commands.clear()

        response = await team.member.client.get(TASKS)

        assert response.headers["x-cache"] == "HIT"
        assert mongo_commands.commands == []
