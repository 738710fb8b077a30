"""Relations through HTTP: each type from both ends, one relation per pair and type, access on both
projects, visibility that follows membership and deletion, removal from either end, activity."""

import pytest

from backend.testing import Team, problem
from tests.relations.helpers import Ops, listed, make_task, relate, relations_url

BOTH_ENDS = [
    ("blocks", "blocks", "blocked_by"),
    ("duplicates", "duplicates", "duplicated_by"),
    ("relates_to", "relates_to", "relates_to"),
]


@pytest.mark.parametrize(("type_", "from_source", "from_target"), BOTH_ENDS)
async def test_each_type_reads_from_both_ends(
    team: Team, type_: str, from_source: str, from_target: str
) -> None:
    a = await make_task(team.member, team.project, "Login page")
    b = await make_task(team.member, team.project, "Sign-in copy")

    created = await relate(team.member, a, type_, b)

    assert created.status_code == 201, created.text
    relation = created.json()
    assert relation["type"] == from_source
    assert relation["task"] == {
        "id": b["id"],
        "project_id": team.project["id"],
        "key": b["key"],
        "title": "Sign-in copy",
        "status": "backlog",
    }
    assert created.headers["location"] == f"{relations_url(a)}/{relation['id']}"
    assert (await team.viewer.client.get(created.headers["location"])).json() == relation
    assert await listed(team.viewer, a) == [(from_source, b["key"])]
    assert await listed(team.viewer, b) == [(from_target, a["key"])]
    from_b = (await team.viewer.client.get(f"{relations_url(b)}/{relation['id']}")).json()
    assert from_b["id"] == relation["id"]
    assert from_b["type"] == from_target
    assert from_b["task"]["id"] == a["id"]


@pytest.mark.parametrize("type_", ["blocks", "duplicates", "relates_to"])
async def test_the_same_relation_twice_is_409(team: Team, type_: str) -> None:
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, team.project)
    assert (await relate(team.member, a, type_, b)).status_code == 201

    problem(await relate(team.admin, a, type_, b), 409, "RELATION_EXISTS")

    assert len(await listed(team.member, a)) == 1


@pytest.mark.parametrize("type_", ["duplicates", "relates_to"])
async def test_the_reverse_is_the_same_relation(team: Team, type_: str) -> None:
    """relates_to is symmetric; "B duplicates A" beside "A duplicates B" would say nothing new."""
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, team.project)
    assert (await relate(team.member, a, type_, b)).status_code == 201

    problem(await relate(team.member, b, type_, a), 409, "RELATION_EXISTS")

    assert len(await listed(team.member, a)) == len(await listed(team.member, b)) == 1


async def test_different_types_between_two_tasks_are_different_relations(team: Team) -> None:
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, team.project)

    for type_ in ("blocks", "relates_to", "duplicates"):
        assert (await relate(team.member, a, type_, b)).status_code == 201

    assert await listed(team.member, b) == [
        ("blocked_by", a["key"]),
        ("relates_to", a["key"]),
        ("duplicated_by", a["key"]),
    ]


async def test_a_task_cannot_relate_to_itself(team: Team) -> None:
    a = await make_task(team.member, team.project)

    body = problem(await relate(team.member, a, "relates_to", a), 422, "SELF_RELATION")

    assert list(body["field_errors"]) == ["task_id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "blocked_by", "task_id": "6b0201e8c0ffee00000000b3"}, "type"),
        ({"type": "parent_of", "task_id": "6b0201e8c0ffee00000000b3"}, "type"),
        ({"type": "blocks", "task_id": "WEB-2"}, "task_id"),
        ({"type": "blocks"}, "task_id"),
        ({"type": "blocks", "task_id": "6b0201e8c0ffee00000000b3", "note": "x"}, "note"),
    ],
)
async def test_bad_input_is_422(team: Team, payload: dict[str, str], field: str) -> None:
    a = await make_task(team.member, team.project)

    body = problem(await team.member.client.post(relations_url(a), json=payload), 422, "VALIDATION_FAILED")

    assert field in body["field_errors"]


async def test_an_unknown_or_deleted_other_task_is_404(team: Team) -> None:
    a = await make_task(team.member, team.project)
    gone = await make_task(team.member, team.project)
    assert (await team.member.client.delete(f"{team.tasks_url}/{gone['id']}")).status_code == 204

    problem(
        await relate(team.member, a, "blocks", {"id": "6b0201e8c0ffee00000000b3"}),
        404,
        "RELATED_TASK_NOT_FOUND",
    )
    problem(await relate(team.member, a, "blocks", gone), 404, "RELATED_TASK_NOT_FOUND")


async def test_outsider_gets_404_and_viewer_403(team: Team) -> None:
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, team.project)
    relation = (await relate(team.member, a, "blocks", b)).json()
    one = f"{relations_url(a)}/{relation['id']}"

    problem(await team.outsider.client.get(relations_url(a)), 404, "PROJECT_NOT_FOUND")
    problem(await team.outsider.client.get(one), 404, "PROJECT_NOT_FOUND")
    problem(await relate(team.outsider, a, "relates_to", b), 404, "PROJECT_NOT_FOUND")
    problem(await team.outsider.client.delete(one), 404, "PROJECT_NOT_FOUND")
    problem(await relate(team.viewer, a, "relates_to", b), 403, "INSUFFICIENT_ROLE")
    problem(await team.viewer.client.delete(one), 403, "INSUFFICIENT_ROLE")
    assert await listed(team.viewer, a) == [("blocks", b["key"])]


async def test_a_relation_is_found_only_under_its_own_tasks(team: Team) -> None:
    a, b, c = [await make_task(team.member, team.project) for _ in range(3)]
    relation = (await relate(team.member, a, "blocks", b)).json()

    problem(await team.member.client.get(f"{relations_url(c)}/{relation['id']}"), 404, "RELATION_NOT_FOUND")
    problem(
        await team.member.client.delete(f"{relations_url(c)}/{relation['id']}"), 404, "RELATION_NOT_FOUND"
    )
    problem(await team.member.client.get(f"{relations_url(a)}/not-an-id"), 404, "RELATION_NOT_FOUND")
    problem(await team.member.client.get(f"{relations_url(a)}/{a['id']}"), 404, "RELATION_NOT_FOUND")


@pytest.mark.parametrize("from_end", ["source", "target"])
async def test_delete_from_either_end(team: Team, from_end: str) -> None:
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, team.project)
    relation = (await relate(team.member, a, "blocks", b)).json()
    url = f"{relations_url(a if from_end == 'source' else b)}/{relation['id']}"

    assert (await team.member.client.delete(url)).status_code == 204

    assert await listed(team.member, a) == await listed(team.member, b) == []
    problem(await team.member.client.delete(url), 404, "RELATION_NOT_FOUND")
    assert (await relate(team.member, b, "blocks", a)).status_code == 201  # no cycle left behind


async def test_a_deleted_task_hides_its_relations_and_restoring_shows_them(team: Team) -> None:
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, team.project)
    relation = (await relate(team.member, a, "blocks", b)).json()

    assert (await team.member.client.delete(f"{team.tasks_url}/{b['id']}")).status_code == 204

    assert await listed(team.member, a) == []
    problem(await team.member.client.get(f"{relations_url(a)}/{relation['id']}"), 404, "RELATION_NOT_FOUND")
    problem(await team.member.client.get(relations_url(b)), 404, "TASK_NOT_FOUND")
    problem(await relate(team.member, a, "relates_to", b), 404, "RELATED_TASK_NOT_FOUND")

    assert (await team.member.client.post(f"{team.tasks_url}/{b['id']}/restore")).status_code == 200

    assert await listed(team.member, a) == [("blocks", b["key"])]
    assert await listed(team.member, b) == [("blocked_by", a["key"])]


async def test_a_deleted_tasks_blocks_still_count_against_cycles(team: Team) -> None:
    """Restoring a task brings its relations back: they must not close a cycle then."""
    a, b, c = [await make_task(team.member, team.project) for _ in range(3)]
    await relate(team.member, a, "blocks", b)
    await relate(team.member, b, "blocks", c)
    assert (await team.member.client.delete(f"{team.tasks_url}/{b['id']}")).status_code == 204

    problem(await relate(team.member, c, "blocks", a), 409, "RELATION_CYCLE")


async def test_across_projects_for_who_sees_both(team: Team, ops: Ops) -> None:
    await ops.add(team.member, "viewer")  # reading the other project is enough
    web = await make_task(team.member, team.project, "Status page")
    outage = await make_task(team.owner, ops.project, "Outage runbook")

    created = await relate(team.member, web, "blocks", outage)

    assert created.status_code == 201, created.text
    assert created.json()["task"]["project_id"] == ops.project["id"]
    assert await listed(team.member, web) == [("blocks", "OPS-1")]
    assert await listed(team.member, outage) == [("blocked_by", "WEB-1")]
    assert await listed(team.owner, outage) == [("blocked_by", "WEB-1")]
    # Ada (WEB admin) is not in OPS: the relation on her side is hidden, and OPS stays 404 to her.
    assert await listed(team.admin, web) == []
    problem(await team.admin.client.get(relations_url(outage)), 404, "PROJECT_NOT_FOUND")


async def test_across_projects_refused_to_who_cannot_see_the_other(team: Team, ops: Ops) -> None:
    web = await make_task(team.member, team.project)
    outage = await make_task(team.owner, ops.project)

    problem(await relate(team.member, web, "relates_to", outage), 404, "RELATED_TASK_NOT_FOUND")
    # Seeing the other project is not enough to write from its side: that needs a member role there.
    await ops.add(team.viewer, "viewer")
    problem(await relate(team.viewer, outage, "relates_to", web), 403, "INSUFFICIENT_ROLE")
    assert await listed(team.owner, web) == []


async def test_a_member_removed_from_the_other_project_stops_seeing_the_relation(
    team: Team, ops: Ops
) -> None:
    await ops.add(team.member)
    web = await make_task(team.member, team.project)
    outage = await make_task(team.owner, ops.project)
    relation = (await relate(team.owner, web, "duplicates", outage)).json()
    one = f"{relations_url(web)}/{relation['id']}"
    assert await listed(team.member, web) == [("duplicates", "OPS-1")]

    await ops.remove(team.member)

    assert await listed(team.member, web) == []
    problem(await team.member.client.get(one), 404, "RELATION_NOT_FOUND")
    problem(await team.member.client.delete(one), 404, "RELATION_NOT_FOUND")
    assert await listed(team.owner, web) == [("duplicates", "OPS-1")]


async def test_pages_oldest_first(team: Team) -> None:
    a = await make_task(team.member, team.project)
    others = [await make_task(team.member, team.project, f"t{i}") for i in range(5)]
    for other in others:
        assert (await relate(team.member, a, "relates_to", other)).status_code == 201

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = (await team.member.client.get(relations_url(a), params=params)).json()
        seen += [r["task"]["title"] for r in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == [f"t{i}" for i in range(5)]
    problem(
        await team.member.client.get(relations_url(others[0]), params={"cursor": params["cursor"]}),
        422,
        "VALIDATION_FAILED",
    )


async def test_changes_are_in_both_tasks_activity(team: Team, ops: Ops) -> None:
    await ops.add(team.member, "viewer")
    a = await make_task(team.member, team.project)
    b = await make_task(team.member, team.project)
    outage = await make_task(team.owner, ops.project)
    activity_of_b = f"{relations_url(b).removesuffix('/relations')}/activity"
    await team.member.client.get(activity_of_b)  # cached now: the change must end that answer

    relation = (await relate(team.member, a, "blocks", b)).json()
    await relate(team.member, a, "relates_to", outage)
    assert (await team.member.client.delete(f"{relations_url(b)}/{relation['id']}")).status_code == 204

    feed = (await team.member.client.get(activity_of_b)).json()["items"]
    assert [(r["verb"], r["target"]["type"], r["changes"]) for r in feed[:2]] == [
        (
            "relation.deleted",
            "relation",
            {"relation": [{"type": "blocked_by", "task_id": a["id"], "task_key": a["key"]}, None]},
        ),
        (
            "relation.created",
            "relation",
            {"relation": [None, {"type": "blocked_by", "task_id": a["id"], "task_key": a["key"]}]},
        ),
    ]
    # In another project, the record names the task but not its key (OPS members may not see WEB).
    ops_feed = (await team.owner.client.get(f"/api/v1/projects/{ops.project['id']}/activity")).json()["items"]
    assert ops_feed[0]["verb"] == "relation.created"
    assert ops_feed[0]["task_id"] == outage["id"]
    assert ops_feed[0]["changes"] == {
        "relation": [None, {"type": "relates_to", "task_id": a["id"], "task_key": None}]
    }


async def test_an_archived_other_project_refuses_new_and_removed_relations(team: Team, ops: Ops) -> None:
    """A relation changes both tasks' lists and activity: an archived project at the far end refuses
    it, as it refuses every other change (it stays readable)."""
    await ops.add(team.member)
    web = await make_task(team.member, team.project)
    outage = await make_task(team.owner, ops.project)
    kept = (await relate(team.member, web, "relates_to", outage)).json()
    archived = await ops.owner.client.delete(f"/api/v1/projects/{ops.project['id']}")
    assert archived.status_code == 204, archived.text

    problem(await relate(team.member, web, "blocks", outage), 409, "PROJECT_ARCHIVED")
    problem(await team.member.client.delete(f"{relations_url(web)}/{kept['id']}"), 409, "PROJECT_ARCHIVED")
    assert await listed(team.member, web) == [("relates_to", "OPS-1")]
    assert await listed(team.owner, outage) == [("relates_to", "WEB-1")]
