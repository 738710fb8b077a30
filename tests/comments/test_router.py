"""Comments through HTTP: permissions for author, other member, admin and viewer."""

from typing import Any

import pytest

from backend.testing import Team, problem


@pytest.fixture
async def comments_url(team: Team) -> str:
    task = (await team.member.client.post(team.tasks_url, json={"title": "Discuss"})).json()
    return f"{team.tasks_url}/{task['id']}/comments"


async def test_member_comments_and_everyone_reads_oldest_first(team: Team, comments_url: str) -> None:
    first = await team.member.client.post(comments_url, json={"body": "First **draft**"})
    await team.admin.client.post(comments_url, json={"body": "Second"})

    assert first.status_code == 201
    comment = first.json()
    assert first.headers["location"] == f"{comments_url}/{comment['id']}"
    assert comment["author"] == {"id": team.member.id, "display_name": "Max", "handle": team.member.handle}
    assert comment["edited_at"] is None
    listed = (await team.viewer.client.get(comments_url)).json()
    assert [c["body"] for c in listed["items"]] == ["First **draft**", "Second"]
    assert (await team.viewer.client.get(f"{comments_url}/{comment['id']}")).json() == comment


async def test_pages_oldest_first(team: Team, comments_url: str) -> None:
    for i in range(5):
        await team.member.client.post(comments_url, json={"body": f"c{i}"})

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = (await team.member.client.get(comments_url, params=params)).json()
        seen += [c["body"] for c in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == [f"c{i}" for i in range(5)]


async def test_only_the_author_edits(team: Team, comments_url: str) -> None:
    comment = (await team.member.client.post(comments_url, json={"body": "mine"})).json()
    url = f"{comments_url}/{comment['id']}"

    problem(await team.admin.client.patch(url, json={"body": "admin edit"}), 403, "NOT_COMMENT_AUTHOR")
    problem(await team.owner.client.patch(url, json={"body": "owner edit"}), 403, "NOT_COMMENT_AUTHOR")
    edited = await team.member.client.patch(url, json={"body": "mine, fixed"})

    assert edited.status_code == 200
    assert edited.json()["body"] == "mine, fixed"
    assert edited.json()["edited_at"] is not None


async def test_author_or_admin_deletes(team: Team, comments_url: str) -> None:
    by_member = (await team.member.client.post(comments_url, json={"body": "a"})).json()
    by_admin = (await team.admin.client.post(comments_url, json={"body": "b"})).json()
    other = (await team.admin.client.post(comments_url, json={"body": "c"})).json()

    problem(await team.member.client.delete(f"{comments_url}/{by_admin['id']}"), 403, "NOT_COMMENT_AUTHOR")
    assert (await team.member.client.delete(f"{comments_url}/{by_member['id']}")).status_code == 204
    assert (await team.admin.client.delete(f"{comments_url}/{by_admin['id']}")).status_code == 204
    assert (await team.owner.client.delete(f"{comments_url}/{other['id']}")).status_code == 204
    assert (await team.member.client.get(comments_url)).json()["items"] == []
    problem(await team.member.client.get(f"{comments_url}/{by_member['id']}"), 404, "COMMENT_NOT_FOUND")


async def test_viewer_cannot_write(team: Team, comments_url: str) -> None:
    comment = (await team.member.client.post(comments_url, json={"body": "a"})).json()

    problem(await team.viewer.client.post(comments_url, json={"body": "b"}), 403, "INSUFFICIENT_ROLE")
    problem(await team.viewer.client.delete(f"{comments_url}/{comment['id']}"), 403, "INSUFFICIENT_ROLE")


async def test_outsider_sees_nothing(team: Team, comments_url: str) -> None:
    problem(await team.outsider.client.get(comments_url), 404, "PROJECT_NOT_FOUND")
    problem(await team.outsider.client.post(comments_url, json={"body": "x"}), 404, "PROJECT_NOT_FOUND")


@pytest.mark.parametrize(
    "payload", [{}, {"body": ""}, {"body": "b" * 10_001}, {"body": 5}, {"body": "x", "pin": True}]
)
async def test_invalid_body_is_422(team: Team, comments_url: str, payload: dict[str, Any]) -> None:
    problem(await team.member.client.post(comments_url, json=payload), 422, "VALIDATION_FAILED")


async def test_comment_of_another_task_is_404(team: Team, comments_url: str) -> None:
    comment = (await team.member.client.post(comments_url, json={"body": "a"})).json()
    other = (await team.member.client.post(team.tasks_url, json={"title": "Other"})).json()

    problem(
        await team.member.client.get(f"{team.tasks_url}/{other['id']}/comments/{comment['id']}"),
        404,
        "COMMENT_NOT_FOUND",
    )
