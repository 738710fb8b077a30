"""Batch create through HTTP: one result per item, numbers from one step of the counter, the same
rules and problems as one create, idempotent retries, and database work that does not grow."""

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from bson import ObjectId

from backend.core.storage.db import Database
from backend.testing import Actor, CommandLog, Team, UserFactory, make_team, problem


def batch_url(team: Team) -> str:
    return f"{team.tasks_url}/batch"


async def batch(
    team: Team, items: Sequence[object], *, by: Actor | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await (by or team.member).client.post(batch_url(team), json={"tasks": items}, headers=headers)


def results_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(results)))
    return results


def created_tasks(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["task"] for r in results if r["outcome"] == "created"]


async def create(team: Team, **fields: Any) -> dict[str, Any]:
    response = await team.member.client.post(team.tasks_url, json={"title": "A task", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def alike(problem_body: dict[str, Any]) -> dict[str, Any]:
    """A problem without what differs between two requests (their id and path)."""
    return {k: v for k, v in problem_body.items() if k not in ("request_id", "instance")}


class TestCreated:
    async def test_every_item_becomes_a_task_in_request_order(self, team: Team) -> None:
        parent = await create(team, title="Parent")
        items = [
            {"title": "First", "labels": ["UI"], "assignee_ids": [team.member.id], "priority": 2},
            {"title": "Second", "status": "done", "due_at": "2026-12-01T09:30:00+02:00"},
            {"title": "Third", "parent_id": parent["id"], "position": 7.5},
        ]

        results = results_of(await batch(team, items))

        assert [(r["outcome"], r["status"]) for r in results] == [("created", 201)] * 3
        tasks = created_tasks(results)
        assert [t["key"] for t in tasks] == ["WEB-2", "WEB-3", "WEB-4"]
        assert [t["title"] for t in tasks] == ["First", "Second", "Third"]
        assert tasks[0]["labels"] == ["ui"]
        assert tasks[0]["assignees"] == [
            {"id": team.member.id, "display_name": "Max", "handle": team.member.handle}
        ]
        assert tasks[1]["completed_at"] is not None
        assert tasks[1]["due_at"] == "2026-12-01T07:30:00Z"
        assert tasks[2]["parent_id"] == parent["id"]
        assert [t["position"] for t in tasks] == [2.0, 3.0, 7.5]
        assert {t["created_by"] for t in tasks} == {team.member.id}
        for task in tasks:  # what a read answers, field for field
            assert (await team.viewer.client.get(f"{team.tasks_url}/{task['id']}")).json() == task

    async def test_each_created_task_is_recorded_and_listed(self, team: Team) -> None:
        listed = await team.member.client.get(team.tasks_url)  # cached now: the batch must end it
        assert listed.json()["items"] == []

        tasks = created_tasks(results_of(await batch(team, [{"title": "One"}, {"title": "Two"}])))

        after = (await team.member.client.get(team.tasks_url)).json()["items"]
        assert {t["id"] for t in after} == {t["id"] for t in tasks}
        activity = (await team.member.client.get(f"{team.project_url}/activity")).json()["items"]
        created = [a for a in activity if a["verb"] == "task.created"]
        assert sorted(a["target"]["key"] for a in created) == ["WEB-1", "WEB-2"]
        assert {a["actor"]["id"] for a in created} == {team.member.id}
        assert [a["changes"]["title"] for a in created if a["target"]["key"] == "WEB-2"] == [[None, "Two"]]

    async def test_a_hundred_items_are_accepted(self, team: Team) -> None:
        results = results_of(await batch(team, [{"title": f"t{i}"} for i in range(100)]))

        assert [t["number"] for t in created_tasks(results)] == list(range(1, 101))


class TestFailedItems:
    async def test_each_item_gets_the_problem_it_would_get_alone(
        self, team: Team, users: UserFactory
    ) -> None:
        parent = await create(team, title="Parent")
        other = await make_team(users, key="API")
        foreign = (await other.member.client.post(other.tasks_url, json={"title": "x"})).json()
        items = [
            {"title": "ok 1"},
            {"title": "outsider", "assignee_ids": [team.member.id, team.outsider.id]},
            {"title": "no parent", "parent_id": "0" * 24},
            {"title": "ok 2", "parent_id": parent["id"]},
            {"title": "foreign parent", "parent_id": foreign["id"]},
            {"title": "ok 3"},
        ]

        response = await batch(team, items)
        results = results_of(response)

        assert [(r["outcome"], r["status"]) for r in results] == [
            ("created", 201),
            ("failed", 422),
            ("failed", 422),
            ("created", 201),
            ("failed", 422),
            ("created", 201),
        ]
        # Valid items take contiguous numbers; failed ones take none.
        assert [t["key"] for t in created_tasks(results)] == ["WEB-2", "WEB-3", "WEB-4"]
        for index in (1, 2, 4):
            alone = await team.member.client.post(team.tasks_url, json=items[index])
            item_problem = results[index]["problem"]
            assert alike(item_problem) == alike(alone.json())
            assert item_problem["request_id"] == response.headers["x-request-id"]
            assert item_problem["instance"] == batch_url(team)
        assert results[1]["problem"]["error_code"] == "ASSIGNEE_NOT_MEMBER"
        assert team.outsider.id in results[1]["problem"]["field_errors"]["assignee_ids"][0]
        assert results[2]["problem"]["error_code"] == "INVALID_PARENT"
        assert "current_etag" not in results[2]["problem"]  # absent, not null, as in every problem
        assert "task" not in results[1]
        assert "problem" not in results[0]
        assert (await create(team))["key"] == "WEB-5"

    async def test_too_deep_parents_are_refused_per_item(self, team: Team) -> None:
        chain = [await create(team)]
        for _ in range(3):
            chain.append(await create(team, parent_id=chain[-1]["id"]))  # four levels
        deeper = await create(team, parent_id=chain[-1]["id"])  # the fifth, the deepest allowed

        results = results_of(
            await batch(
                team,
                [
                    {"title": "5th level", "parent_id": chain[-1]["id"]},
                    {"title": "6th", "parent_id": deeper["id"]},
                ],
            )
        )

        assert [r["outcome"] for r in results] == ["created", "failed"]
        assert "5 levels" in results[1]["problem"]["detail"]
        alone = await team.member.client.post(
            team.tasks_url, json={"title": "6th", "parent_id": deeper["id"]}
        )
        assert alike(results[1]["problem"]) == alike(alone.json())

    async def test_deleted_parent_is_refused(self, team: Team) -> None:
        parent = await create(team)
        await team.member.client.delete(f"{team.tasks_url}/{parent['id']}")

        (result,) = results_of(await batch(team, [{"title": "x", "parent_id": parent["id"]}]))

        assert result["problem"]["error_code"] == "INVALID_PARENT"

    async def test_all_items_failing_create_nothing_and_take_no_number(self, team: Team) -> None:
        items = [{"title": "x", "assignee_ids": [team.outsider.id]}, {"title": "y", "parent_id": "0" * 24}]

        results = results_of(await batch(team, items))

        assert [r["outcome"] for r in results] == ["failed", "failed"]
        assert (await team.member.client.get(team.tasks_url)).json()["items"] == []
        assert (await create(team))["key"] == "WEB-1"

    async def test_a_taken_number_fails_that_item_alone(self, team: Team, db: Database) -> None:
        """The project's counter behind its tasks (a projects collection restored from an older
        backup): the insert refuses the items whose numbers are taken, and only those."""
        await create(team)
        await create(team)
        await db["projects"].update_one({"_id": ObjectId(team.project["id"])}, {"$set": {"task_counter": 1}})

        results = results_of(await batch(team, [{"title": "a"}, {"title": "b"}, {"title": "c"}]))

        assert [(r["outcome"], r["status"]) for r in results] == [
            ("failed", 409),
            ("created", 201),
            ("created", 201),
        ]
        assert results[0]["problem"]["error_code"] == "TASK_NUMBER_TAKEN"
        assert [t["key"] for t in created_tasks(results)] == ["WEB-3", "WEB-4"]
        listed = (await team.member.client.get(team.tasks_url, params={"sort": "number"})).json()["items"]
        assert [(t["key"], t["title"]) for t in listed] == [
            ("WEB-1", "A task"),
            ("WEB-2", "A task"),
            ("WEB-3", "b"),
            ("WEB-4", "c"),
        ]
        activity = (await team.member.client.get(f"{team.project_url}/activity")).json()["items"]
        assert sum(a["verb"] == "task.created" for a in activity) == 4  # none for the refused item
        # Sent again, the item gets the next free number.
        (again,) = created_tasks(results_of(await batch(team, [{"title": "a"}])))
        assert again["key"] == "WEB-5"


class TestBadRequests:
    @pytest.mark.parametrize("count", [0, 101])
    async def test_item_count_outside_1_to_100_is_422(self, team: Team, count: int) -> None:
        response = await batch(team, [{"title": f"t{i}"} for i in range(count)])

        assert "tasks" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]
        assert (await team.member.client.get(team.tasks_url)).json()["items"] == []

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"tasks": {"title": "x"}},
            {"tasks": [{"title": "x"}], "extra": 1},
            {"tasks": [{"title": "x"}, {}]},
        ],
    )
    async def test_malformed_bodies_are_422(self, team: Team, body: dict[str, Any]) -> None:
        problem(await team.member.client.post(batch_url(team), json=body), 422, "VALIDATION_FAILED")

    async def test_an_item_that_does_not_validate_fails_the_whole_request(self, team: Team) -> None:
        response = await batch(team, [{"title": "fine"}, {"title": ""}, {"title": "x", "status": "doing"}])

        fields = problem(response, 422, "VALIDATION_FAILED")["field_errors"]
        assert {"tasks.1.title", "tasks.2.status"} <= set(fields), fields
        assert (await team.member.client.get(team.tasks_url)).json()["items"] == []


class TestAccess:
    async def test_outsider_gets_404(self, team: Team) -> None:
        problem(await batch(team, [{"title": "x"}], by=team.outsider), 404, "PROJECT_NOT_FOUND")

    async def test_viewer_gets_403(self, team: Team) -> None:
        problem(await batch(team, [{"title": "x"}], by=team.viewer), 403, "INSUFFICIENT_ROLE")
        assert (await team.member.client.get(team.tasks_url)).json()["items"] == []

    async def test_admins_and_owners_may(self, team: Team) -> None:
        for actor in (team.admin, team.owner):
            assert [r["outcome"] for r in results_of(await batch(team, [{"title": "x"}], by=actor))] == [
                "created"
            ]

    async def test_archived_project_is_refused(self, team: Team) -> None:
        await team.owner.client.delete(team.project_url)

        problem(await batch(team, [{"title": "x"}]), 409, "PROJECT_ARCHIVED")

    async def test_unknown_project_is_404(self, team: Team) -> None:
        url = f"/api/v1/projects/{'0' * 24}/tasks/batch"
        response = await team.member.client.post(url, json={"tasks": [{"title": "x"}]})
        problem(response, 404, "PROJECT_NOT_FOUND")


class TestIdempotency:
    async def test_retry_replays_the_first_results(self, team: Team) -> None:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        items = [{"title": "Once"}, {"title": "Bad", "assignee_ids": [team.outsider.id]}]

        first = await batch(team, items, headers=headers)
        retry = await batch(team, items, headers=headers)

        assert first.status_code == retry.status_code == 200
        assert retry.json() == first.json()
        assert retry.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert len((await team.member.client.get(team.tasks_url)).json()["items"]) == 1

    async def test_same_key_other_body_is_422(self, team: Team) -> None:
        headers = {"Idempotency-Key": "batch-1"}
        await batch(team, [{"title": "Once"}], headers=headers)

        problem(await batch(team, [{"title": "Twice"}], headers=headers), 422, "IDEMPOTENCY_KEY_REUSED")

    async def test_keys_are_per_user_and_apart_from_single_creates(self, team: Team) -> None:
        headers = {"Idempotency-Key": "shared"}
        single = await team.member.client.post(team.tasks_url, json={"title": "x"}, headers=headers)
        mine = await batch(team, [{"title": "x"}], headers=headers)
        theirs = await batch(team, [{"title": "x"}], by=team.admin, headers=headers)

        assert single.status_code == 201
        assert "idempotent-replayed" not in mine.headers
        assert "idempotent-replayed" not in theirs.headers
        keys = {created_tasks(results_of(r))[0]["key"] for r in (mine, theirs)}
        assert keys == {"WEB-2", "WEB-3"}


async def test_concurrent_batches_get_contiguous_unique_numbers(team: Team) -> None:
    """Meaningful on the real-server tier (the in-memory MongoDB never interleaves requests)."""
    sizes = (30, 40)
    batches, single = await asyncio.gather(
        asyncio.gather(
            *(batch(team, [{"title": f"b{b}-{i}"} for i in range(size)]) for b, size in enumerate(sizes))
        ),
        create(team, title="single"),
    )

    numbers = [[t["number"] for t in created_tasks(results_of(r))] for r in batches]
    for got, size in zip(numbers, sizes, strict=True):
        assert got == list(range(got[0], got[0] + size))  # contiguous, in request order
    assert sorted([*numbers[0], *numbers[1], single["number"]]) == list(range(1, 72))  # unique, no gap


async def test_round_trips_do_not_grow_with_the_batch(team: Team, mongo_commands: CommandLog) -> None:
    parent = await create(team, title="Parent", assignee_ids=[team.admin.id])
    child = await create(team, title="Child", parent_id=parent["id"])

    def items(count: int) -> list[dict[str, Any]]:
        return [
            {
                "title": f"Item {i}",
                "labels": ["batch"],
                "assignee_ids": [team.member.id, team.admin.id],
                "parent_id": child["id"],  # walked up two levels, for every item at once
            }
            for i in range(count)
        ]

    await batch(team, items(1))  # warm: the caller, the member map, the names
    counts = []
    for count in (1, 50):
        mongo_commands.clear()
        results = results_of(await batch(team, items(count)))
        assert [r["outcome"] for r in results] == ["created"] * count
        counts.append(len(mongo_commands.commands))
        names = [name for name, _ in mongo_commands.commands]
        # The labels the catalogue lacks (one unordered insert for the batch), the tasks, their activity,
        # their watchers (creator and assignees) and the assignees' notifications (one insert each).
        assert names.count("insert") == 5, mongo_commands.commands
        assert names.count("findAndModify") == 1, mongo_commands.commands  # the numbers

    assert counts[0] == counts[1], counts
    assert counts[1] <= 10, mongo_commands.commands
