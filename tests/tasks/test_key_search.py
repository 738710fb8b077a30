"""Searching a project's tasks by key through HTTP: `q=WEB-42` (any case, alone or among words) lists
that task; a key of another project's prefix is words, and never shows another project's tasks."""

from typing import Any

import pytest

from backend.tasks.keys import TaskKey, keys_in, parse_task_key, without_keys
from backend.testing import CommandLog, Team, UserFactory, make_team


async def seed(team: Team) -> list[dict[str, Any]]:
    tasks = []
    for title in ("Fix login redirect", "Write the API docs", "Login page copy", "Release notes for web 2"):
        response = await team.member.client.post(team.tasks_url, json={"title": title})
        assert response.status_code == 201, response.text
        tasks.append(response.json())
    return tasks


async def search(team: Team, q: str, **params: Any) -> list[str]:
    response = await team.member.client.get(team.tasks_url, params={"q": q, "sort": "number", **params})
    assert response.status_code == 200, response.text
    return [task["key"] for task in response.json()["items"]]


class TestKeys:
    @pytest.mark.parametrize("q", ["WEB-2", "web-2", "Web-2", "  web-2  "])
    async def test_a_key_alone_lists_that_task_only(self, team: Team, q: str) -> None:
        await seed(team)

        assert await search(team, q) == ["WEB-2"]

    async def test_a_key_among_words_lists_it_and_the_tasks_matching_the_words(self, team: Team) -> None:
        await seed(team)

        assert await search(team, "login WEB-2") == ["WEB-1", "WEB-2", "WEB-3"]
        assert await search(team, "web-4, login page") == ["WEB-3", "WEB-4"]
        assert await search(team, "see web-4, then login") == ["WEB-4"]  # every other word must match

    async def test_several_keys_list_each(self, team: Team) -> None:
        await seed(team)

        assert await search(team, "WEB-4 WEB-1 web-4") == ["WEB-1", "WEB-4"]

    async def test_a_key_that_names_no_task_matches_nothing(self, team: Team) -> None:
        await seed(team)

        assert await search(team, "WEB-99") == []
        assert await search(team, "WEB-99 login") == ["WEB-1", "WEB-3"]

    async def test_a_deleted_task_is_not_found_by_its_key(self, team: Team) -> None:
        tasks = await seed(team)
        await team.member.client.delete(f"{team.tasks_url}/{tasks[1]['id']}")

        assert await search(team, "WEB-2") == []
        admin_view = await team.admin.client.get(
            team.tasks_url, params={"q": "web-2", "include_deleted": True}
        )
        assert [t["key"] for t in admin_view.json()["items"]] == ["WEB-2"]

    async def test_other_filters_still_apply(self, team: Team) -> None:
        await seed(team)

        assert await search(team, "WEB-2", status="done") == []
        assert await search(team, "WEB-2", status="backlog") == ["WEB-2"]

    async def test_a_key_in_the_task_list_is_found_once_created(self, team: Team) -> None:
        assert await search(team, "WEB-1") == []  # cached: the create must end that answer

        await seed(team)

        assert await search(team, "WEB-1") == ["WEB-1"]


class TestOtherProjects:
    async def test_another_projects_key_shows_none_of_its_tasks(self, team: Team, users: UserFactory) -> None:
        await seed(team)
        other = await make_team(users, key="API")
        await other.member.client.post(other.tasks_url, json={"title": "Fix login redirect"})
        await other.member.client.post(other.tasks_url, json={"title": "Unrelated"})

        # `API-3` is not a key of WEB: searched as words ("api"; "3" is one letter), within WEB,
        # so neither WEB-3 (the same number) nor API's tasks.
        assert await search(team, "API-3") == ["WEB-2"]
        assert await search(team, "API-2") == ["WEB-2"]
        assert await search(team, "API-1 login") == []
        mine = await other.member.client.get(other.tasks_url, params={"q": "api-2"})
        assert [t["key"] for t in mine.json()["items"]] == ["API-2"]

    async def test_outsider_cannot_search_by_key(self, team: Team) -> None:
        await seed(team)

        response = await team.outsider.client.get(team.tasks_url, params={"q": "WEB-1"})

        assert response.status_code == 404

    async def test_words_that_look_like_keys_of_no_project_stay_words(self, team: Team) -> None:
        response = await team.member.client.post(team.tasks_url, json={"title": "Decode UTF-8 names"})
        assert response.status_code == 201

        assert await search(team, "utf-8") == ["WEB-1"]


class TestRoundTrips:
    async def test_a_key_search_costs_what_a_word_search_does(
        self, team: Team, mongo_commands: CommandLog
    ) -> None:
        await seed(team)
        counts = []
        for q in ("login", "WEB-2", "login WEB-2"):
            await search(team, "warm")
            mongo_commands.clear()
            await search(team, q, include_total=True, limit=1)
            counts.append(len(mongo_commands.commands))

        assert counts[1] == counts[2] == counts[0] <= 3, counts


class TestParsing:
    """One reading of keys for every route that takes them (the lookup by key, the searches)."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("WEB-42", TaskKey("WEB", 42)),
            ("web-42", TaskKey("WEB", 42)),
            ("A1B2-7", TaskKey("A1B2", 7)),
            ("WEB-0", None),
            ("WEB-01", None),
            ("W-1", None),
            ("1WEB-1", None),
            ("WEB-", None),
            ("WEB-42 ", None),
            ("ABCDEFGHIJK-1", None),
        ],
    )
    def test_parse_task_key(self, text: str, expected: TaskKey | None) -> None:
        assert parse_task_key(text) == expected

    @pytest.mark.parametrize(
        ("q", "keys"),
        [
            ("WEB-1", ["WEB-1"]),
            ("fix web-2, then WEB-3.", ["WEB-2", "WEB-3"]),
            ("web-2 WEB-2", ["WEB-2"]),
            ("a_WEB-1 WEB-1-2 WEB-01 WEB-1x", []),
            ("(WEB-7)", ["WEB-7"]),
        ],
    )
    def test_keys_in_a_query(self, q: str, keys: list[str]) -> None:
        assert [str(key) for key in keys_in(q)] == keys

    def test_the_rest_of_a_query_is_its_words(self) -> None:
        assert without_keys("login WEB-2 utf-8", {TaskKey("WEB", 2)}).split() == ["login", "utf-8"]
