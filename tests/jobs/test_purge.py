"""The daily purge of tasks deleted longer than the retention: they go with their attachments (and
chunks), comments, relations, watchers, notifications and reminders; a recently deleted task stays
restorable with all of it."""

from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from fastapi import FastAPI

from backend.core.storage.db import Database
from backend.core.time import utcnow
from backend.resources import resources_of
from backend.retention.repository import PurgeRepository
from backend.testing import Team
from backend.worker import deleted_task_purge, due_reminders
from tests.attachments.conftest import PNG, SMALL, stored, usage
from tests.notifications.helpers import new_task, notifications_of

CHUNKS = -(-len(PNG) // SMALL["attachment_chunk_bytes"])  # the chunks of one PNG upload


async def furnished_task(team: Team) -> dict[str, Any]:
    """A task with an attachment, a comment, a relation, a watcher, notifications and a reminder."""
    task = await new_task(
        team, team.owner, assignee_ids=[team.member.id], due_at=(utcnow() + timedelta(hours=1)).isoformat()
    )
    url = f"{team.tasks_url}/{task['id']}"
    other = await new_task(team, team.owner)
    upload = await team.member.client.post(f"{url}/attachments", files={"file": ("a.png", PNG, "image/png")})
    assert upload.status_code == 201, upload.text
    assert (await team.member.client.post(f"{url}/comments", json={"body": "On it"})).status_code == 201
    relation = await team.owner.client.post(
        f"{url}/relations", json={"type": "blocks", "task_id": other["id"]}
    )
    assert relation.status_code == 201, relation.text
    assert (await team.viewer.client.put(f"{url}/watchers/me")).status_code in (200, 201)
    return task


async def remains(db: Database, team: Team, task_id: str) -> dict[str, int]:
    oid = ObjectId(task_id)
    in_project = {"project_id": ObjectId(team.project["id"]), "task_id": oid}
    return {
        "tasks": await db["tasks"].count_documents({"_id": oid}),
        "attachments": await db["attachments"].count_documents(in_project),
        "comments": await db["comments"].count_documents(in_project),
        "relations": await db["task_relations"].count_documents(
            {"$or": [{"source_task_id": oid}, {"target_task_id": oid}]}
        ),
        "watchers": await db["task_watchers"].count_documents({"task_id": oid}),
        "notifications": await db["notifications"].count_documents({"task_id": oid}),
        "reminders": await db["due_reminders"].count_documents({"task_id": oid}),
    }


async def delete(team: Team, task: dict[str, Any], db: Database, *, days_ago: float) -> None:
    assert (await team.owner.client.delete(f"{team.tasks_url}/{task['id']}")).status_code == 204
    await db["tasks"].update_one(
        {"_id": ObjectId(task["id"])}, {"$set": {"deleted_at": utcnow() - timedelta(days=days_ago)}}
    )


@pytest.mark.tasklane_settings(**SMALL)
async def test_a_long_deleted_task_goes_with_everything_of_it(app: FastAPI, team: Team, db: Database) -> None:
    old = await furnished_task(team)
    recent = await furnished_task(team)
    assert await due_reminders(resources_of(app)).run() == 2
    before = await remains(db, team, recent["id"])
    assert all(before.values()), before
    retention = resources_of(app).settings.deleted_task_retention_days
    await delete(team, old, db, days_ago=retention + 1)
    await delete(team, recent, db, days_ago=retention - 1)
    assert await stored(db) == (2, 2, 2 * CHUNKS)

    assert await deleted_task_purge(resources_of(app)).run() == 1

    assert set((await remains(db, team, old["id"])).values()) == {0}
    assert await stored(db) == (1, 1, CHUNKS)  # the recent task's file and its chunks
    assert await usage(db, team.project["id"]) == len(PNG)
    assert await remains(db, team, recent["id"]) == before
    restored = await team.owner.client.post(f"{team.tasks_url}/{recent['id']}/restore")
    assert restored.status_code == 200, restored.text
    attachments = await team.member.client.get(f"{team.tasks_url}/{recent['id']}/attachments")
    assert [a["filename"] for a in attachments.json()["items"]] == ["a.png"]
    assert {n["task_id"] for n in await notifications_of(team.member)} == {recent["id"]}
    assert await deleted_task_purge(resources_of(app)).run() == 0  # nothing more to do


@pytest.mark.tasklane_settings(**SMALL)
async def test_a_purge_cut_short_is_finished_by_the_next_run(
    app: FastAPI, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await furnished_task(team)
    retention = resources_of(app).settings.deleted_task_retention_days
    await delete(team, task, db, days_ago=retention + 1)
    original = PurgeRepository.remove_dependents

    async def crash(self: PurgeRepository, *args: Any) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(PurgeRepository, "remove_dependents", crash)
    with pytest.raises(RuntimeError):
        await deleted_task_purge(resources_of(app)).run()
    assert (await remains(db, team, task["id"]))["tasks"] == 1
    monkeypatch.setattr(PurgeRepository, "remove_dependents", original)

    assert await deleted_task_purge(resources_of(app)).run() == 1

    assert set((await remains(db, team, task["id"])).values()) == {0}
    assert await stored(db) == (0, 0, 0)
    assert await usage(db, team.project["id"]) == 0
