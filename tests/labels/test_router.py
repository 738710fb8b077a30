"""The label catalogue through HTTP: create, read, list and prefix search, change, delete, who may."""

from typing import Any

import pytest

from backend.testing import Team, UserFactory, make_team, problem
from tests.labels.conftest import labels_url, make_label, names


class TestCreate:
    async def test_member_creates_and_everyone_reads(self, team: Team) -> None:
        response = await team.member.client.post(
            labels_url(team),
            json={"name": "  Needs QA ", "color": "#A1B2C3", "description": "Test it first."},
        )

        assert response.status_code == 201, response.text
        label = response.json()
        assert response.headers["location"] == f"{labels_url(team)}/{label['id']}"
        assert response.headers["etag"] == '"v1"'
        assert label["name"] == "Needs QA"
        assert label["task_label"] == "needs qa"
        assert label["color"] == "#a1b2c3"
        assert label["description"] == "Test it first."
        assert label["project_id"] == team.project["id"]
        one = await team.viewer.client.get(f"{labels_url(team)}/{label['id']}")
        assert one.status_code == 200
        assert one.json() == label
        assert one.headers["etag"] == '"v1"'
        assert (await team.viewer.client.get(labels_url(team))).json() == {
            "items": [label],
            "next_cursor": None,
        }

    async def test_a_name_is_unique_ignoring_case(self, team: Team) -> None:
        await make_label(team, "Bug")

        body = problem(
            await team.admin.client.post(labels_url(team), json={"name": " bUG ", "color": "#000000"}),
            409,
            "LABEL_EXISTS",
        )

        assert "ignoring case" in body["detail"]
        assert await names(team.member.client, labels_url(team)) == ["Bug"]

    async def test_another_project_may_have_the_same_name(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        await make_label(team, "bug")

        assert (await make_label(other, "bug"))["project_id"] == other.project["id"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "", "color": "#000000"}, "name"),
            ({"name": "   ", "color": "#000000"}, "name"),
            ({"name": "x" * 41, "color": "#000000"}, "name"),
            ({"color": "#000000"}, "name"),
            ({"name": "ok", "color": "red"}, "color"),
            ({"name": "ok", "color": "#abc"}, "color"),
            ({"name": "ok", "color": "#12345g"}, "color"),
            ({"name": "ok", "color": "#1234567"}, "color"),
            ({"name": "ok", "color": " #123456"}, "color"),
            ({"name": "ok"}, "color"),
            ({"name": "ok", "color": "#000000", "description": "d" * 501}, "description"),
            ({"name": "ok", "color": "#000000", "usage": 3}, "usage"),
        ],
    )
    async def test_invalid_input_is_422_naming_the_field(
        self, team: Team, body: dict[str, Any], field: str
    ) -> None:
        answer = problem(await team.member.client.post(labels_url(team), json=body), 422, "VALIDATION_FAILED")

        assert field in answer["field_errors"], answer

    async def test_forty_characters_fit_as_on_a_task(self, team: Team) -> None:
        label = await make_label(team, "L" * 40)
        task = await team.member.client.post(team.tasks_url, json={"title": "t", "labels": [label["name"]]})

        assert task.status_code == 201
        assert task.json()["labels"] == [label["task_label"]]


class TestList:
    async def test_in_name_order_ignoring_case_a_page_at_a_time(self, team: Team) -> None:
        for name in ("delta", "Alpha", "charlie", "Bravo", "echo"):
            await make_label(team, name)

        listed = await names(team.viewer.client, labels_url(team), limit=2)

        assert listed == ["Alpha", "Bravo", "charlie", "delta", "echo"]

    async def test_prefix_search_ignores_case(self, team: Team) -> None:
        for name in ("Bug", "build", "Backend", "ux", "bu"):
            await make_label(team, name)

        assert await names(team.member.client, labels_url(team), q="BU") == ["bu", "Bug", "build"]
        assert await names(team.member.client, labels_url(team), q="bu", limit=1) == ["bu", "Bug", "build"]
        assert await names(team.member.client, labels_url(team), q="bui") == ["build"]
        assert await names(team.member.client, labels_url(team), q="x") == []
        assert await names(team.member.client, labels_url(team), q="") == [
            "Backend",
            "bu",
            "Bug",
            "build",
            "ux",
        ]

    async def test_prefix_search_beyond_ascii(self, team: Team) -> None:
        for name in ("Équipe", "éclair", "eclipse", "日本語", "日本"):
            await make_label(team, name)

        assert await names(team.member.client, labels_url(team), q="É") == ["éclair", "Équipe"]
        assert await names(team.member.client, labels_url(team), q="日本") == ["日本", "日本語"]

    async def test_a_cursor_of_another_search_is_refused(self, team: Team) -> None:
        for name in ("ab", "ac", "ad"):
            await make_label(team, name)
        page = (await team.member.client.get(labels_url(team), params={"q": "a", "limit": 1})).json()

        answer = await team.member.client.get(
            labels_url(team), params={"q": "b", "cursor": page["next_cursor"]}
        )

        assert "query.cursor" in problem(answer, 422, "VALIDATION_FAILED")["field_errors"]

    @pytest.mark.parametrize(
        "params", [{"limit": 0}, {"limit": 101}, {"q": "x" * 41}, {"cursor": "nonsense"}]
    )
    async def test_bad_parameters_are_422(self, team: Team, params: dict[str, Any]) -> None:
        problem(await team.member.client.get(labels_url(team), params=params), 422, "VALIDATION_FAILED")


class TestChange:
    async def test_recolour_and_describe(self, team: Team) -> None:
        label = await make_label(team, "bug")
        url = f"{labels_url(team)}/{label['id']}"

        changed = await team.member.client.patch(url, json={"color": "#FFEEDD", "description": "Broken."})

        assert changed.status_code == 200, changed.text
        assert changed.headers["etag"] == '"v2"'
        assert changed.json() | {"updated_at": None} == label | {
            "color": "#ffeedd",
            "description": "Broken.",
            "updated_at": None,
        }
        assert (await team.viewer.client.get(url)).json() == changed.json()

    async def test_renaming_onto_another_name_is_409(self, team: Team) -> None:
        await make_label(team, "bug")
        other = await make_label(team, "defect")

        problem(
            await team.member.client.patch(f"{labels_url(team)}/{other['id']}", json={"name": "BUG"}),
            409,
            "LABEL_EXISTS",
        )
        assert await names(team.member.client, labels_url(team)) == ["bug", "defect"]

    async def test_if_match_guards_changes(self, team: Team) -> None:
        label = await make_label(team, "bug")
        url = f"{labels_url(team)}/{label['id']}"
        await team.admin.client.patch(url, json={"color": "#000001"})

        stale = await team.member.client.patch(url, json={"color": "#000002"}, headers={"If-Match": '"v1"'})
        gone = await team.member.client.delete(url, headers={"If-Match": '"v1"'})
        fresh = await team.member.client.patch(url, json={"color": "#000003"}, headers={"If-Match": '"v2"'})

        assert problem(stale, 412, "PRECONDITION_FAILED")["current_etag"] == '"v2"'
        assert problem(gone, 412, "PRECONDITION_FAILED")["current_etag"] == '"v2"'
        assert fresh.status_code == 200
        assert fresh.json()["color"] == "#000003"

    @pytest.mark.parametrize(
        ("body", "field"),
        [({"name": None}, "name"), ({"name": ""}, "name"), ({"color": "blue"}, "color"), ({"x": 1}, "x")],
    )
    async def test_invalid_change_is_422(self, team: Team, body: dict[str, Any], field: str) -> None:
        label = await make_label(team, "bug")

        answer = await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json=body)

        assert field in str(problem(answer, 422, "VALIDATION_FAILED")["field_errors"])
        assert (await team.member.client.get(f"{labels_url(team)}/{label['id']}")).json() == label

    async def test_delete(self, team: Team) -> None:
        label = await make_label(team, "bug")
        url = f"{labels_url(team)}/{label['id']}"

        assert (await team.member.client.delete(url)).status_code == 204

        problem(await team.member.client.get(url), 404, "LABEL_NOT_FOUND")
        problem(await team.member.client.delete(url), 404, "LABEL_NOT_FOUND")
        assert await names(team.member.client, labels_url(team)) == []

    async def test_changes_are_in_the_activity(self, team: Team) -> None:
        label = await make_label(team, "bug", "#000000")
        url = f"{labels_url(team)}/{label['id']}"
        await team.member.client.patch(url, json={"name": "Defect", "color": "#ffffff"})
        await team.member.client.delete(url)

        verbs = {"verb": ["label.created", "label.updated", "label.deleted"]}
        activity = (await team.viewer.client.get(f"{team.project_url}/activity", params=verbs)).json()[
            "items"
        ]

        assert [(a["verb"], a["target"], a["changes"]) for a in activity] == [
            (
                "label.deleted",
                {"type": "label", "id": label["id"], "key": "Defect"},
                {"name": ["Defect", None], "color": ["#ffffff", None], "description": ["", None]},
            ),
            (
                "label.updated",
                {"type": "label", "id": label["id"], "key": "Defect"},
                {"name": ["bug", "Defect"], "color": ["#000000", "#ffffff"]},
            ),
            (
                "label.created",
                {"type": "label", "id": label["id"], "key": "bug"},
                {"name": [None, "bug"], "color": [None, "#000000"], "description": [None, ""]},
            ),
        ]
        assert all(a["task_id"] is None and a["actor"]["id"] == team.member.id for a in activity)


class TestAccess:
    async def test_viewer_reads_but_cannot_write(self, team: Team) -> None:
        label = await make_label(team, "bug")
        url = f"{labels_url(team)}/{label['id']}"

        assert (await team.viewer.client.get(url)).status_code == 200
        problem(
            await team.viewer.client.post(labels_url(team), json={"name": "x", "color": "#000000"}),
            403,
            "INSUFFICIENT_ROLE",
        )
        problem(await team.viewer.client.patch(url, json={"color": "#ffffff"}), 403, "INSUFFICIENT_ROLE")
        problem(await team.viewer.client.delete(url), 403, "INSUFFICIENT_ROLE")
        assert (await team.viewer.client.get(url)).json() == label

    async def test_outsider_gets_404_for_everything(self, team: Team) -> None:
        label = await make_label(team, "bug")
        url = f"{labels_url(team)}/{label['id']}"

        for answer in (
            await team.outsider.client.get(labels_url(team)),
            await team.outsider.client.get(url),
            await team.outsider.client.post(labels_url(team), json={"name": "x", "color": "#000000"}),
            await team.outsider.client.patch(url, json={"color": "#ffffff"}),
            await team.outsider.client.delete(url),
        ):
            problem(answer, 404, "PROJECT_NOT_FOUND")

    async def test_a_label_of_another_project_is_not_found(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        foreign = await make_label(other, "bug")

        for path in (foreign["id"], "not-an-id", "0" * 24):
            url = f"{labels_url(team)}/{path}"
            problem(await team.member.client.get(url), 404, "LABEL_NOT_FOUND")
            problem(await team.member.client.patch(url, json={"color": "#ffffff"}), 404, "LABEL_NOT_FOUND")
            problem(await team.member.client.delete(url), 404, "LABEL_NOT_FOUND")
        assert (await other.member.client.get(f"{labels_url(other)}/{foreign['id']}")).json() == foreign

    async def test_an_archived_project_refuses_changes(self, team: Team) -> None:
        label = await make_label(team, "bug")
        await team.owner.client.delete(team.project_url)

        problem(
            await team.member.client.post(labels_url(team), json={"name": "x", "color": "#000000"}),
            409,
            "PROJECT_ARCHIVED",
        )
        problem(
            await team.member.client.patch(f"{labels_url(team)}/{label['id']}", json={"name": "y"}),
            409,
            "PROJECT_ARCHIVED",
        )
        assert (await team.member.client.get(labels_url(team))).json()["items"] == [label]
