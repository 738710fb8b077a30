"""Tasks through HTTP: create, read, update, delete, restore, keys, ETags, idempotency, bulk."""

import asyncio
from typing import Any

import pytest

from backend.testing import Team, UserFactory, make_team, problem


async def create(team: Team, **fields: Any) -> dict[str, Any]:
    response = await team.member.client.post(team.tasks_url, json={"title": "A task", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestCreate:
    async def test_full_task(self, team: Team) -> None:
        response = await team.member.client.post(
            team.tasks_url,
            json={
                "title": "  Ship the *login* page ",
                "description": "# Plan\n\n- [ ] do it  \n",
                "status": "todo",
                "priority": 2,
                "labels": ["Frontend", "frontend", " UX "],
                "assignee_ids": [team.member.id, team.admin.id],
                "due_at": "2026-12-01T09:30:00+02:00",
            },
        )

        assert response.status_code == 201
        task = response.json()
        assert response.headers["location"] == f"{team.tasks_url}/{task['id']}"
        assert response.headers["etag"] == '"v1"'
        assert task["key"] == "WEB-1"
        assert task["number"] == 1
        assert task["title"] == "Ship the *login* page"
        assert task["description"] == "# Plan\n\n- [ ] do it  \n"
        assert task["labels"] == ["frontend", "ux"]
        assert task["assignees"] == [
            {"id": team.member.id, "display_name": "Max", "handle": team.member.handle},
            {"id": team.admin.id, "display_name": "Ada", "handle": team.admin.handle},
        ]
        assert task["due_at"] == "2026-12-01T07:30:00Z"
        assert task["created_by"] == team.member.id
        assert task["completed_at"] is None
        assert task["deleted_at"] is None
        assert task["position"] == 1.0
        assert "search_terms" not in task
        assert "version" not in task

    async def test_numbers_count_up_per_project(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        keys = [(await create(team))["key"] for _ in range(3)]
        keys.append((await other.member.client.post(other.tasks_url, json={"title": "x"})).json()["key"])

        assert keys == ["WEB-1", "WEB-2", "WEB-3", "API-1"]

    async def test_done_on_creation_sets_completed_at(self, team: Team) -> None:
        assert (await create(team, status="done"))["completed_at"] is not None

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({}, "title"),
            ({"title": ""}, "title"),
            ({"title": "   "}, "title"),
            ({"title": "t" * 201}, "title"),
            ({"title": "x", "description": "d" * 20_001}, "description"),
            ({"title": "x", "status": "doing"}, "status"),
            ({"title": "x", "priority": 5}, "priority"),
            ({"title": "x", "priority": "high"}, "priority"),
            ({"title": "x", "labels": [f"l{i}" for i in range(21)]}, "labels"),
            ({"title": "x", "labels": ["l" * 41]}, "labels.0"),
            ({"title": "x", "labels": [""]}, "labels.0"),
            ({"title": "x", "labels": "bug"}, "labels"),
            ({"title": "x", "assignee_ids": ["nope"]}, "assignee_ids.0"),
            ({"title": "x", "assignee_ids": [f"{i:024x}" for i in range(11)]}, "assignee_ids"),
            ({"title": "x", "due_at": "2026-12-01T09:30:00"}, "due_at"),
            ({"title": "x", "due_at": "tomorrow"}, "due_at"),
            ({"title": "x", "parent_id": "123"}, "parent_id"),
            ({"title": "x", "position": "first"}, "position"),
            ({"title": "x", "number": 7}, "number"),
        ],
    )
    async def test_invalid_input_is_422(self, team: Team, payload: dict[str, Any], field: str) -> None:
        body = problem(await team.member.client.post(team.tasks_url, json=payload), 422, "VALIDATION_FAILED")

        assert field in body["field_errors"], body["field_errors"]

    async def test_labels_at_the_limit_are_accepted(self, team: Team) -> None:
        task = await create(team, labels=[f"l{i}" for i in range(20)], title="t" * 200)

        assert len(task["labels"]) == 20

    async def test_assignee_must_be_a_member(self, team: Team) -> None:
        response = await team.member.client.post(
            team.tasks_url, json={"title": "x", "assignee_ids": [team.outsider.id]}
        )

        body = problem(response, 422, "ASSIGNEE_NOT_MEMBER")
        assert team.outsider.id in body["field_errors"]["assignee_ids"][0]

    async def test_failed_creates_leave_no_gap(self, team: Team) -> None:
        await create(team)
        await team.member.client.post(team.tasks_url, json={"title": "x", "assignee_ids": [team.outsider.id]})
        await team.member.client.post(team.tasks_url, json={"title": "x", "parent_id": "0" * 24})

        assert (await create(team))["number"] == 2

    async def test_viewer_cannot_create(self, team: Team) -> None:
        problem(await team.viewer.client.post(team.tasks_url, json={"title": "x"}), 403, "INSUFFICIENT_ROLE")

    async def test_archived_project_refuses_tasks(self, team: Team) -> None:
        await team.owner.client.delete(f"/api/v1/projects/{team.project['id']}")

        problem(await team.member.client.post(team.tasks_url, json={"title": "x"}), 409, "PROJECT_ARCHIVED")


class TestSubtasks:
    async def test_parent_must_be_in_the_same_project(self, team: Team, users: UserFactory) -> None:
        other = await make_team(users, key="API")
        foreign = (await other.member.client.post(other.tasks_url, json={"title": "x"})).json()

        response = await team.member.client.post(
            team.tasks_url, json={"title": "x", "parent_id": foreign["id"]}
        )

        assert "parent_id" in problem(response, 422, "INVALID_PARENT")["field_errors"]

    async def test_no_cycles(self, team: Team) -> None:
        root = await create(team)
        child = await create(team, parent_id=root["id"])
        grandchild = await create(team, parent_id=child["id"])

        for parent in (root, grandchild):
            response = await team.member.client.patch(
                f"{team.tasks_url}/{root['id']}", json={"parent_id": parent["id"]}
            )
            problem(response, 422, "INVALID_PARENT")

    async def test_depth_is_at_most_five(self, team: Team) -> None:
        chain = [await create(team)]
        for _ in range(4):
            chain.append(await create(team, parent_id=chain[-1]["id"]))

        too_deep = await team.member.client.post(
            team.tasks_url, json={"title": "x", "parent_id": chain[-1]["id"]}
        )
        problem(too_deep, 422, "INVALID_PARENT")

        # Moving a two-level subtree under level 4 would make six levels.
        top = await create(team)
        await create(team, parent_id=top["id"])
        moved = await team.member.client.patch(
            f"{team.tasks_url}/{top['id']}", json={"parent_id": chain[3]["id"]}
        )
        problem(moved, 422, "INVALID_PARENT")
        ok = await team.member.client.patch(
            f"{team.tasks_url}/{top['id']}", json={"parent_id": chain[2]["id"]}
        )
        assert ok.status_code == 200

    async def test_clearing_the_parent(self, team: Team) -> None:
        root = await create(team)
        child = await create(team, parent_id=root["id"])

        response = await team.member.client.patch(f"{team.tasks_url}/{child['id']}", json={"parent_id": None})

        assert response.json()["parent_id"] is None


class TestReadUpdateDelete:
    async def test_get_by_id_and_by_key(self, team: Team) -> None:
        task = await create(team)

        by_id = await team.viewer.client.get(f"{team.tasks_url}/{task['id']}")
        by_key = await team.viewer.client.get("/api/v1/tasks/web-1")

        assert by_id.json() == task
        assert by_key.json() == task
        assert by_id.headers["etag"] == '"v1"'

    @pytest.mark.parametrize("key", ["WEB-2", "WEB-0", "WEB", "WEB-x", "NOPE-1", "WEB-01", "W-1"])
    async def test_unknown_keys_are_404(self, team: Team, key: str) -> None:
        await create(team)

        problem(await team.member.client.get(f"/api/v1/tasks/{key}"), 404, "TASK_NOT_FOUND")

    async def test_key_of_a_foreign_project_is_404(self, team: Team) -> None:
        await create(team)

        problem(await team.outsider.client.get("/api/v1/tasks/WEB-1"), 404, "TASK_NOT_FOUND")

    async def test_partial_update(self, team: Team) -> None:
        task = await create(team, description="keep me", labels=["a"])

        response = await team.member.client.patch(
            f"{team.tasks_url}/{task['id']}", json={"title": "New", "due_at": "2027-01-01T00:00:00Z"}
        )

        assert response.status_code == 200
        updated = response.json()
        assert updated["title"] == "New"
        assert updated["description"] == "keep me"
        assert updated["labels"] == ["a"]
        assert updated["due_at"] == "2027-01-01T00:00:00Z"
        assert response.headers["etag"] == '"v2"'
        cleared = await team.member.client.patch(f"{team.tasks_url}/{task['id']}", json={"due_at": None})
        assert cleared.json()["due_at"] is None

    @pytest.mark.parametrize("field", ["title", "status", "priority", "labels", "position", "description"])
    async def test_non_clearable_fields_refuse_null(self, team: Team, field: str) -> None:
        task = await create(team)

        response = await team.member.client.patch(f"{team.tasks_url}/{task['id']}", json={field: None})

        assert field in problem(response, 422, "VALIDATION_FAILED")["detail"] + str(response.json())

    async def test_completed_at_follows_done(self, team: Team) -> None:
        task = await create(team)
        url = f"{team.tasks_url}/{task['id']}"

        done = (await team.member.client.patch(url, json={"status": "done"})).json()
        still = (await team.member.client.patch(url, json={"title": "Renamed"})).json()
        reopened = (await team.member.client.patch(url, json={"status": "todo"})).json()

        assert done["completed_at"] is not None
        assert still["completed_at"] == done["completed_at"]
        assert reopened["completed_at"] is None

    async def test_if_match(self, team: Team) -> None:
        task = await create(team)
        url = f"{team.tasks_url}/{task['id']}"

        fresh = await team.member.client.patch(url, json={"title": "A"}, headers={"If-Match": '"v1"'})
        stale = await team.member.client.patch(url, json={"title": "B"}, headers={"If-Match": '"v1"'})

        assert fresh.status_code == 200
        assert problem(stale, 412, "PRECONDITION_FAILED")["current_etag"] == '"v2"'
        problem(
            await team.member.client.delete(url, headers={"If-Match": '"v1"'}), 412, "PRECONDITION_FAILED"
        )
        assert (await team.member.client.get(url)).json()["title"] == "A"

    async def test_conditional_get(self, team: Team) -> None:
        task = await create(team)
        url = f"{team.tasks_url}/{task['id']}"

        response = await team.member.client.get(url, headers={"If-None-Match": '"v1"'})

        assert response.status_code == 304
        assert response.content == b""

    async def test_viewer_cannot_update_or_delete(self, team: Team) -> None:
        task = await create(team)
        url = f"{team.tasks_url}/{task['id']}"

        problem(await team.viewer.client.patch(url, json={"title": "x"}), 403, "INSUFFICIENT_ROLE")
        problem(await team.viewer.client.delete(url), 403, "INSUFFICIENT_ROLE")

    async def test_soft_delete_and_restore(self, team: Team) -> None:
        task = await create(team)
        url = f"{team.tasks_url}/{task['id']}"

        assert (await team.member.client.delete(url)).status_code == 204

        problem(await team.member.client.get(url), 404, "TASK_NOT_FOUND")
        problem(await team.member.client.get("/api/v1/tasks/WEB-1"), 404, "TASK_NOT_FOUND")
        assert (await team.member.client.get(team.tasks_url)).json()["items"] == []
        admin_view = (await team.admin.client.get(team.tasks_url, params={"include_deleted": True})).json()
        assert [t["deleted_at"] is not None for t in admin_view["items"]] == [True]
        problem(
            await team.member.client.get(team.tasks_url, params={"include_deleted": True}),
            403,
            "INSUFFICIENT_ROLE",
        )

        restored = await team.member.client.post(f"{url}/restore")
        assert restored.status_code == 200
        assert restored.json()["deleted_at"] is None
        assert (await team.member.client.get(url)).status_code == 200
        problem(await team.member.client.post(f"{url}/restore"), 404, "TASK_NOT_FOUND")

    async def test_unknown_and_malformed_task_ids_are_404(self, team: Team) -> None:
        for task_id in ("0" * 24, "junk"):
            problem(await team.member.client.get(f"{team.tasks_url}/{task_id}"), 404, "TASK_NOT_FOUND")
            problem(
                await team.member.client.patch(f"{team.tasks_url}/{task_id}", json={}), 404, "TASK_NOT_FOUND"
            )


class TestIdempotency:
    async def test_retry_replays_the_first_task(self, team: Team) -> None:
        headers = {"Idempotency-Key": "create-42"}

        first = await team.member.client.post(team.tasks_url, json={"title": "Once"}, headers=headers)
        retry = await team.member.client.post(team.tasks_url, json={"title": "Once"}, headers=headers)

        assert first.status_code == retry.status_code == 201
        assert retry.json() == first.json()
        assert retry.headers["location"] == first.headers["location"]
        assert retry.headers["idempotent-replayed"] == "true"
        assert len((await team.member.client.get(team.tasks_url)).json()["items"]) == 1

    async def test_same_key_other_body_is_422(self, team: Team) -> None:
        headers = {"Idempotency-Key": "create-43"}
        await team.member.client.post(team.tasks_url, json={"title": "Once"}, headers=headers)

        response = await team.member.client.post(team.tasks_url, json={"title": "Twice"}, headers=headers)

        problem(response, 422, "IDEMPOTENCY_KEY_REUSED")

    async def test_keys_are_per_user(self, team: Team) -> None:
        headers = {"Idempotency-Key": "shared"}
        mine = await team.member.client.post(team.tasks_url, json={"title": "Once"}, headers=headers)
        theirs = await team.admin.client.post(team.tasks_url, json={"title": "Once"}, headers=headers)

        assert mine.json()["id"] != theirs.json()["id"]

    async def test_failed_create_does_not_burn_the_key(self, team: Team) -> None:
        headers = {"Idempotency-Key": "retry-after-fix"}
        bad = await team.member.client.post(
            team.tasks_url, json={"title": "x", "assignee_ids": [team.outsider.id]}, headers=headers
        )
        fixed = await team.member.client.post(team.tasks_url, json={"title": "x"}, headers=headers)

        assert bad.status_code == 422
        assert fixed.status_code == 201

    @pytest.mark.parametrize("key", ["", "has space", "k" * 256])
    async def test_bad_key_is_422(self, team: Team, key: str) -> None:
        response = await team.member.client.post(
            team.tasks_url, json={"title": "x"}, headers={"Idempotency-Key": key}
        )

        assert "header.Idempotency-Key" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]


class TestBulkUpdate:
    async def test_results_per_id(self, team: Team, users: UserFactory) -> None:
        a = await create(team, labels=["old", "keep"])
        b = await create(team, status="done")
        deleted = await create(team)
        await team.member.client.delete(f"{team.tasks_url}/{deleted['id']}")
        other = await make_team(users, key="API")
        foreign = (await other.member.client.post(other.tasks_url, json={"title": "x"})).json()

        response = await team.member.client.post(
            f"{team.tasks_url}/bulk-update",
            json={
                "ids": [a["id"], b["id"], deleted["id"], foreign["id"], "0" * 24],
                "set": {
                    "status": "in_progress",
                    "priority": 1,
                    "add_labels": ["New"],
                    "remove_labels": ["old"],
                },
            },
        )

        assert response.status_code == 200
        assert [r["result"] for r in response.json()["results"]] == [
            "updated",
            "updated",
            "not_found",
            "not_found",
            "not_found",
        ]
        got_a = (await team.member.client.get(f"{team.tasks_url}/{a['id']}")).json()
        got_b = (await team.member.client.get(f"{team.tasks_url}/{b['id']}")).json()
        assert (got_a["status"], got_a["priority"], got_a["labels"]) == ("in_progress", 1, ["keep", "new"])
        assert got_b["completed_at"] is None
        found = (await team.member.client.get(team.tasks_url, params={"q": "new"})).json()["items"]
        assert {t["id"] for t in found} == {a["id"], b["id"]}
        assert (await team.member.client.get(team.tasks_url, params={"q": "old"})).json()["items"] == []

    async def test_too_many_labels_is_invalid_for_that_task(self, team: Team) -> None:
        full = await create(team, labels=[f"l{i}" for i in range(20)])
        roomy = await create(team)

        response = await team.member.client.post(
            f"{team.tasks_url}/bulk-update",
            json={"ids": [full["id"], roomy["id"]], "set": {"add_labels": ["x"]}},
        )

        results = response.json()["results"]
        assert [r["result"] for r in results] == ["invalid", "updated"]
        assert "20 labels" in results[0]["detail"]

    async def test_non_member_assignee_is_invalid_for_all(self, team: Team) -> None:
        task = await create(team)

        response = await team.member.client.post(
            f"{team.tasks_url}/bulk-update",
            json={"ids": [task["id"]], "set": {"assignee_ids": [team.outsider.id]}},
        )

        assert response.json()["results"][0]["result"] == "invalid"

    @pytest.mark.parametrize(
        "payload",
        [
            {"ids": [], "set": {"status": "done"}},
            {"ids": ["0" * 24] * 2, "set": {}},
            {"ids": [f"{i:024x}" for i in range(101)], "set": {"status": "done"}},
            {"ids": ["x"], "set": {"status": "done"}},
            {"ids": ["0" * 24], "set": {"title": "no"}},
        ],
    )
    async def test_bad_requests_are_422(self, team: Team, payload: dict[str, Any]) -> None:
        problem(
            await team.member.client.post(f"{team.tasks_url}/bulk-update", json=payload),
            422,
            "VALIDATION_FAILED",
        )

    async def test_viewer_cannot_bulk_update(self, team: Team) -> None:
        task = await create(team)
        response = await team.viewer.client.post(
            f"{team.tasks_url}/bulk-update", json={"ids": [task["id"]], "set": {"status": "done"}}
        )

        problem(response, 403, "INSUFFICIENT_ROLE")


async def test_fifty_concurrent_creates_get_unique_gap_free_numbers(team: Team) -> None:
    responses = await asyncio.gather(
        *(team.member.client.post(team.tasks_url, json={"title": f"t{i}"}) for i in range(50))
    )

    assert all(r.status_code == 201 for r in responses)
    assert sorted(r.json()["number"] for r in responses) == list(range(1, 51))
