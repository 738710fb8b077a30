"""Attachments through HTTP, on both tiers: upload, list, metadata, download (ranges), delete, the
limits, sniffing, names, access, and what storage holds afterwards."""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from backend.core.storage.db import Database
from backend.testing import problem
from tests.attachments.conftest import MULTIPART, PDF, PNG, SMALL, TEXT, Files, multipart, stored, usage


async def upload(
    files: Files, data: bytes = PNG, name: str = "a.png", kind: str = "image/png", **kw: Any
) -> Any:
    actor = kw.pop("actor", files.team.member)
    return await actor.client.post(files.url, files={"file": (name, data, kind)}, **kw)


class TestUpload:
    async def test_member_uploads_and_viewer_reads_it(self, files: Files) -> None:
        created = await upload(files, PNG, "diagram.png")

        assert created.status_code == 201, created.text
        body = created.json()
        assert created.headers["location"] == f"{files.url}/{body['id']}"
        assert body["filename"] == "diagram.png"
        assert body["content_type"] == "image/png"
        assert body["size"] == len(PNG)
        assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
        assert body["uploader"] == {
            "id": files.team.member.id,
            "display_name": "Max",
            "handle": files.team.member.handle,
        }
        assert body["task_id"] == files.task["id"]
        viewer = files.team.viewer.client
        assert (await viewer.get(created.headers["location"])).json() == body
        assert (await viewer.get(files.url)).json() == {"items": [body], "next_cursor": None}

    async def test_download_is_a_safe_attachment(self, files: Files) -> None:
        location = (await upload(files, PDF, "report.pdf", "application/pdf")).headers["location"]

        got = await files.team.viewer.client.get(f"{location}/content")

        assert got.status_code == 200
        assert got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["content-length"] == str(len(PDF))
        assert got.headers["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["accept-ranges"] == "bytes"
        assert got.headers["content-disposition"] == (
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        )

    @pytest.mark.parametrize(
        ("sent", "kept"),
        [
            ("../../etc/passwd.txt", "passwd.txt"),
            ("C:\\Users\\eve\\notes.txt", "notes.txt"),
            ("bad\x00na\x1bme\u202e.txt", "badname.txt"),
            ("  ..hidden.txt. ", "hidden.txt"),
            ("...", "file"),
            ("e\u0301te\u0301.txt", "\u00e9t\u00e9.txt"),  # NFC
        ],
    )
    async def test_filenames_lose_paths_and_control_characters(
        self, files: Files, sent: str, kept: str
    ) -> None:
        body = multipart(TEXT, filename=sent, content_type="text/plain")  # raw: httpx would escape some

        created = await files.team.member.client.post(files.url, content=body, headers=MULTIPART)

        assert created.status_code == 201, created.text
        assert created.json()["filename"] == kept
        got = await files.team.member.client.get(created.headers["location"] + "/content")
        disposition = got.headers["content-disposition"]
        assert "/" not in disposition
        assert "\\" not in disposition
        assert disposition.isascii()

    async def test_a_unicode_name_downloads_with_an_ascii_fallback(self, files: Files) -> None:
        body = multipart(TEXT, filename='plan "v2" été.txt', content_type="text/plain")
        location = (await files.team.member.client.post(files.url, content=body, headers=MULTIPART)).headers[
            "location"
        ]

        got = await files.team.member.client.get(f"{location}/content")

        assert got.headers["content-disposition"] == (
            "attachment; filename=\"plan _v2_ _t_.txt\"; filename*=UTF-8''plan%20%22v2%22%20%C3%A9t%C3%A9.txt"
        )

    async def test_a_chunked_body_larger_than_the_json_limit_streams_in(self, files: Files) -> None:
        data = b"\x89PNG\r\n\x1a\n" + b"x" * (3 * 1024 * 1024)  # above max_body_bytes (1 MiB)
        body = multipart(data)

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the reservation grows
            for start in range(0, len(body), 65536):
                yield body[start : start + 65536]

        created = await files.team.member.client.post(files.url, content=chunked(), headers=MULTIPART)

        assert created.status_code == 201, created.text
        assert created.json()["size"] == len(data)
        got = await files.team.member.client.get(created.headers["location"] + "/content")
        assert hashlib.sha256(got.content).hexdigest() == created.json()["sha256"]

    async def test_pages_oldest_first(self, files: Files) -> None:
        names = [f"n{i}.txt" for i in range(5)]
        for name in names:
            await upload(files, TEXT, name, "text/plain")

        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            page = (await files.team.viewer.client.get(files.url, params=params)).json()
            seen += [a["filename"] for a in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]

        assert seen == names


class TestContentType:
    async def test_octet_stream_takes_the_sniffed_type(self, files: Files) -> None:
        created = await upload(files, PNG, "blob", "application/octet-stream")

        assert created.json()["content_type"] == "image/png"

    @pytest.mark.parametrize(
        ("data", "claimed"),
        [
            (PNG, "image/jpeg"),  # a PNG claimed to be a JPEG
            (TEXT, "image/png"),  # text claimed to be an image
            (bytes(range(256)) * 10, "text/plain"),  # binary claimed to be text
            (b"<html><script>alert(1)</script>", "application/pdf"),
        ],
    )
    async def test_bytes_that_are_not_what_they_claim_are_refused(
        self, files: Files, db: Database, data: bytes, claimed: str
    ) -> None:
        problem(await upload(files, data, "x", claimed), 415, "CONTENT_TYPE_MISMATCH")
        assert await stored(db) == (0, 0, 0)

    async def test_a_type_not_allowed_is_refused(self, files: Files, db: Database) -> None:
        exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)

        problem(
            await upload(files, exe, "setup.exe", "application/octet-stream"), 415, "CONTENT_TYPE_NOT_ALLOWED"
        )
        assert await stored(db) == (0, 0, 0)

    @pytest.mark.tasklane_settings(attachment_content_types="image/png")
    async def test_the_allowed_types_are_a_setting(self, files: Files) -> None:
        assert (await upload(files, PNG)).status_code == 201
        problem(await upload(files, PDF, "r.pdf", "application/pdf"), 415, "CONTENT_TYPE_NOT_ALLOWED")

    async def test_a_body_that_is_not_multipart_is_415(self, files: Files) -> None:
        sent = await files.team.member.client.post(
            files.url, content=PNG, headers={"Content-Type": "image/png"}
        )

        problem(sent, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.tasklane_settings(attachment_max_bytes=20_000, **SMALL)
class TestSizeLimit:
    async def test_a_file_over_the_limit_is_413_and_nothing_stays(self, files: Files, db: Database) -> None:
        problem(await upload(files, PNG), 413, "ATTACHMENT_TOO_LARGE")  # 40,968 bytes

        assert await stored(db) == (0, 0, 0)
        assert await usage(db, files.team.project["id"]) == 0

    async def test_detected_while_streaming_without_a_length(self, files: Files, db: Database) -> None:
        body = multipart(PNG)
        sent: list[int] = []

        async def chunked() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 4096):
                sent.append(start)
                yield body[start : start + 4096]

        problem(
            await files.team.member.client.post(files.url, content=chunked(), headers=MULTIPART),
            413,
            "ATTACHMENT_TOO_LARGE",
        )
        assert await stored(db) == (0, 0, 0)
        assert await usage(db, files.team.project["id"]) == 0

    async def test_a_file_at_the_limit_is_stored(self, files: Files) -> None:
        assert (await upload(files, PNG[:20_000])).status_code == 201


class TestCorruptUploads:
    @pytest.mark.tasklane_settings(**SMALL)
    async def test_a_body_cut_off_inside_the_file_stores_nothing(self, files: Files, db: Database) -> None:
        body = multipart(PNG)[: len(PNG) // 2]  # several chunks in: GridFS had written some

        sent = await files.team.member.client.post(files.url, content=body, headers=MULTIPART)

        problem(sent, 422, "MALFORMED_UPLOAD")
        assert await stored(db) == (0, 0, 0)
        assert await usage(db, files.team.project["id"]) == 0

    async def test_a_body_without_its_closing_boundary_stores_nothing(
        self, files: Files, db: Database
    ) -> None:
        body = multipart(TEXT, content_type="text/plain").removesuffix(b"--\r\n")

        problem(
            await files.team.member.client.post(files.url, content=body, headers=MULTIPART),
            422,
            "MALFORMED_UPLOAD",
        )
        assert await stored(db) == (0, 0, 0)

    async def test_no_file_part(self, files: Files) -> None:
        sent = await files.team.member.client.post(files.url, data={"other": "x"}, files={"f": ("a", b"a")})

        problem(sent, 422, "MALFORMED_UPLOAD")

    async def test_a_boundary_missing_from_the_content_type(self, files: Files) -> None:
        sent = await files.team.member.client.post(
            files.url, content=multipart(TEXT), headers={"Content-Type": "multipart/form-data"}
        )

        problem(sent, 422, "MALFORMED_UPLOAD")


@pytest.mark.tasklane_settings(attachment_project_quota_bytes=100_000, **SMALL)
class TestQuota:
    async def test_an_upload_past_the_quota_is_413_quota_exceeded(self, files: Files, db: Database) -> None:
        assert (await upload(files, PNG)).status_code == 201
        assert (await upload(files, PNG)).status_code == 201

        problem(await upload(files, PNG), 413, "QUOTA_EXCEEDED")  # 3 x 40,968 > 100,000

        assert await stored(db) == (2, 2, 2 * 11)
        assert await usage(db, files.team.project["id"]) == 2 * len(PNG)

    async def test_deleting_gives_the_bytes_back(self, files: Files, db: Database) -> None:
        first = (await upload(files, PNG)).headers["location"]
        await upload(files, PNG)
        problem(await upload(files, PNG), 413, "QUOTA_EXCEEDED")

        assert (await files.team.member.client.delete(first)).status_code == 204

        assert (await upload(files, PNG)).status_code == 201
        assert await usage(db, files.team.project["id"]) == 2 * len(PNG)

    async def test_the_quota_is_per_project(self, files: Files, users: Any) -> None:
        await upload(files, PNG)
        await upload(files, PNG)
        other = (
            await files.team.member.client.post("/api/v1/projects", json={"name": "Other", "key": "OTH"})
        ).json()
        task = (
            await files.team.member.client.post(f"/api/v1/projects/{other['id']}/tasks", json={"title": "t"})
        ).json()

        sent = await files.team.member.client.post(
            f"/api/v1/projects/{other['id']}/tasks/{task['id']}/attachments",
            files={"file": ("a.png", PNG, "image/png")},
        )

        assert sent.status_code == 201


class TestRanges:
    @pytest.fixture
    async def location(self, files: Files) -> str:
        return str((await upload(files, PNG)).headers["location"]) + "/content"

    @pytest.mark.parametrize(
        ("asked", "start", "end"),
        [
            ("bytes=0-99", 0, 100),
            ("bytes=40000-", 40000, len(PNG)),
            ("bytes=-10", len(PNG) - 10, len(PNG)),
            ("bytes=100-999999", 100, len(PNG)),
            ("bytes=5000-13000", 5000, 13001),
        ],
    )
    async def test_a_range_answers_206_with_that_part(
        self, files: Files, location: str, asked: str, start: int, end: int
    ) -> None:
        got = await files.team.viewer.client.get(location, headers={"Range": asked})

        assert got.status_code == 206
        assert got.content == PNG[start:end]
        assert got.headers["content-range"] == f"bytes {start}-{end - 1}/{len(PNG)}"
        assert got.headers["content-length"] == str(end - start)

    @pytest.mark.parametrize("asked", [f"bytes={len(PNG)}-", "bytes=999999-1000000", "bytes=-0"])
    async def test_a_range_beyond_the_end_is_416(self, files: Files, location: str, asked: str) -> None:
        got = await files.team.viewer.client.get(location, headers={"Range": asked})

        problem(got, 416, "RANGE_NOT_SATISFIABLE")
        assert got.headers["content-range"] == f"bytes */{len(PNG)}"

    @pytest.mark.parametrize("asked", ["bytes=0-1,5-6", "items=0-5", "bytes=abc", "bytes=9-3"])
    async def test_ranges_it_does_not_serve_get_the_whole_file(
        self, files: Files, location: str, asked: str
    ) -> None:
        got = await files.team.viewer.client.get(location, headers={"Range": asked})

        assert got.status_code == 200
        assert got.content == PNG

    async def test_if_range_with_another_etag_gets_the_whole_file(self, files: Files, location: str) -> None:
        got = await files.team.viewer.client.get(
            location, headers={"Range": "bytes=0-9", "If-Range": '"old"'}
        )

        assert (got.status_code, len(got.content)) == (200, len(PNG))

    async def test_if_none_match_is_304(self, files: Files, location: str) -> None:
        etag = (await files.team.viewer.client.get(location)).headers["etag"]

        got = await files.team.viewer.client.get(location, headers={"If-None-Match": etag})

        assert (got.status_code, got.content) == (304, b"")


class TestAccess:
    async def test_a_viewer_may_not_upload(self, files: Files, db: Database) -> None:
        problem(await upload(files, actor=files.team.viewer), 403, "INSUFFICIENT_ROLE")
        assert await stored(db) == (0, 0, 0)

    async def test_an_outsider_gets_404_everywhere(self, files: Files) -> None:
        location = (await upload(files)).headers["location"]
        outsider = files.team.outsider.client

        problem(await upload(files, actor=files.team.outsider), 404, "PROJECT_NOT_FOUND")
        problem(await outsider.get(files.url), 404, "PROJECT_NOT_FOUND")
        problem(await outsider.get(location), 404, "PROJECT_NOT_FOUND")
        problem(await outsider.get(f"{location}/content"), 404, "PROJECT_NOT_FOUND")
        problem(await outsider.delete(location), 404, "PROJECT_NOT_FOUND")

    async def test_an_attachment_of_another_task_is_404(self, files: Files) -> None:
        location = (await upload(files)).headers["location"]
        other = (await files.team.member.client.post(files.team.tasks_url, json={"title": "Other"})).json()
        elsewhere = location.replace(files.task["id"], other["id"])

        problem(await files.team.member.client.get(elsewhere), 404, "ATTACHMENT_NOT_FOUND")
        problem(await files.team.member.client.get(f"{files.url}/nonsense"), 404, "ATTACHMENT_NOT_FOUND")

    async def test_the_uploader_or_an_admin_deletes(self, files: Files, db: Database) -> None:
        team = files.team
        mine = (await upload(files)).headers["location"]
        theirs = (await upload(files, actor=team.owner)).headers["location"]

        problem(await team.member.client.delete(theirs), 403, "NOT_ATTACHMENT_UPLOADER")
        problem(await team.viewer.client.delete(mine), 403, "INSUFFICIENT_ROLE")
        assert (await team.member.client.delete(mine)).status_code == 204
        assert (await team.admin.client.delete(theirs)).status_code == 204

        problem(await team.member.client.get(f"{mine}/content"), 404, "ATTACHMENT_NOT_FOUND")
        assert await stored(db) == (0, 0, 0)
        assert await usage(db, team.project["id"]) == 0


class TestTaskLifecycle:
    async def test_deleting_a_task_hides_its_attachments_and_restoring_brings_them_back(
        self, files: Files
    ) -> None:
        location = (await upload(files)).headers["location"]
        task_url = f"{files.team.tasks_url}/{files.task['id']}"
        member = files.team.member.client

        assert (await member.delete(task_url)).status_code == 204
        problem(await member.get(files.url), 404, "TASK_NOT_FOUND")
        problem(await member.get(f"{location}/content"), 404, "TASK_NOT_FOUND")

        assert (await member.post(f"{task_url}/restore")).status_code == 200
        assert (await member.get(f"{location}/content")).content == PNG

    async def test_activity_records_uploads_and_deletions(self, files: Files) -> None:
        location = (await upload(files, PNG, "d.png")).headers["location"]
        await files.team.member.client.delete(location)

        feed = (
            await files.team.viewer.client.get(f"{files.team.tasks_url}/{files.task['id']}/activity")
        ).json()

        latest = {r["verb"]: r for r in feed["items"][:2]}
        assert set(latest) == {"attachment.added", "attachment.deleted"}
        added = latest["attachment.added"]
        assert added["target"]["type"] == "attachment"
        assert added["changes"]["filename"] == [None, "d.png"]
        assert added["changes"]["size"] == [None, len(PNG)]


class TestClientGoesAway:
    @pytest.mark.tasklane_settings(**SMALL)
    async def test_a_connection_closed_mid_upload_leaves_nothing(
        self, files: Files, db: Database, live_server: str
    ) -> None:
        """A real socket: the client announces the whole body, sends half (several chunks are
        stored by then), and hangs up."""
        body = multipart(PNG)
        host, port = live_server.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"POST {files.url} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {files.team.member.headers['Authorization']}\r\n"
            f"Content-Type: {MULTIPART['Content-Type']}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body[: len(body) // 2])
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()
        await writer.wait_closed()

        deadline = time.monotonic() + 5
        while (await stored(db) != (0, 0, 0) or await usage(db, files.team.project["id"])) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.05)
        assert await stored(db) == (0, 0, 0)
        assert await usage(db, files.team.project["id"]) == 0
        assert (await files.team.member.client.get(files.url)).json()["items"] == []
