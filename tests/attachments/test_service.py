"""Attachment rules beside HTTP: purging a task's attachments, the project's event stream, and the
quota under racing uploads (real servers)."""

import asyncio

import pytest
from beanie import PydanticObjectId
from bson import ObjectId
from fastapi import FastAPI

from backend.activity.events import EventBus
from backend.attachments.dependencies import attachment_service
from backend.core.storage.db import Database
from backend.core.storage.gridfs import driver_bucket
from backend.resources import resources_of
from backend.testing import problem
from tests.activity.test_service import received
from tests.attachments.conftest import PNG, SMALL, TEXT, Files, stored, usage


class TestPurgeTask:
    @pytest.mark.tasklane_settings(**SMALL)
    async def test_removes_the_attachments_their_chunks_and_their_bytes(
        self, app: FastAPI, files: Files, db: Database
    ) -> None:
        member = files.team.member.client
        for name in ("a.png", "b.png"):
            assert (await member.post(files.url, files={"file": (name, PNG, "image/png")})).status_code == 201
        other = (await member.post(files.team.tasks_url, json={"title": "Kept"})).json()
        kept_url = f"{files.team.tasks_url}/{other['id']}/attachments"
        assert (await member.post(kept_url, files={"file": ("k.txt", TEXT, "text/plain")})).status_code == 201
        project_id = PydanticObjectId(files.team.project["id"])

        purged = await attachment_service(resources_of(app)).purge_task(
            project_id, PydanticObjectId(files.task["id"])
        )

        assert purged == 2
        assert await stored(db) == (1, 1, 1)  # the other task's file, one chunk
        assert await usage(db, files.team.project["id"]) == len(TEXT)
        assert (await member.get(kept_url)).json()["items"][0]["filename"] == "k.txt"


class TestGridFSFormat:
    @pytest.mark.tasklane_settings(**SMALL)
    async def test_a_stored_file_reads_back_through_the_drivers_own_gridfs_bucket(
        self, app: FastAPI, files: Files, db: Database
    ) -> None:
        created = await files.team.member.client.post(files.url, files={"file": ("a.png", PNG, "image/png")})
        stored_attachment = await db["attachments"].find_one({"_id": ObjectId(created.json()["id"])})
        assert stored_attachment is not None

        bucket = driver_bucket(resources_of(app).stores.mongo)
        download = await bucket.open_download_stream(stored_attachment["blob_id"])

        assert await download.read() == PNG
        assert download.filename == "a.png"


class TestEvents:
    async def test_uploads_and_deletions_reach_the_projects_stream(self, app: FastAPI, files: Files) -> None:
        bus = EventBus(resources_of(app).stores.redis)
        member = files.team.member.client

        async with bus.subscribe(PydanticObjectId(files.team.project["id"])) as stream:
            await received(stream, count=1, within=0.2)  # the subscription's confirmation
            created = await member.post(files.url, files={"file": ("a.png", PNG, "image/png")})
            await member.delete(created.headers["location"])
            events = await received(stream, count=2, within=5)

        assert [e["verb"] for e in events] == ["attachment.added", "attachment.deleted"]
        assert events[0]["target"] == {"type": "attachment", "id": created.json()["id"], "key": "WEB-1"}
        assert events[0]["task_id"] == files.task["id"]


@pytest.mark.real_servers
@pytest.mark.tasklane_settings(attachment_project_quota_bytes=100_000, **SMALL)
async def test_racing_uploads_cannot_pass_the_quota_together(files: Files, db: Database) -> None:
    """Four uploads of 40,968 bytes at once against a quota of 100,000: the reservation is one
    conditional write, so exactly two get in, whatever the interleaving."""
    member = files.team.member.client

    answers = await asyncio.gather(
        *(member.post(files.url, files={"file": (f"{i}.png", PNG, "image/png")}) for i in range(4))
    )

    assert sorted(a.status_code for a in answers) == [201, 201, 413, 413]
    for refused in (a for a in answers if a.status_code == 413):
        problem(refused, 413, "QUOTA_EXCEEDED")
    assert await usage(db, files.team.project["id"]) == 2 * len(PNG)
    assert await stored(db) == (2, 2, 2 * 11)
