"""Helpers for attachment tests: files of known types, multipart bodies written by hand (to cut
them off), and what storage holds."""

from dataclasses import dataclass
from typing import Any

import pytest
from bson import ObjectId

from backend.core.storage.db import Database
from backend.testing import Team

# A PNG signature and enough bytes after it to span several GridFS chunks of the tests' size.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 160  # 40,968 bytes
PDF = b"%PDF-1.4\n" + b"0123456789abcdef" * 100
TEXT = "Notes: café ☕\n".encode() * 50
BOUNDARY = "tasklane-test-boundary"
# Small chunks, so that the tests' files span several and a refused upload has written some.
SMALL = {"attachment_chunk_bytes": 4096}


def multipart(data: bytes, *, filename: str = "a.png", content_type: str = "image/png") -> bytes:
    return (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@dataclass
class Files:
    team: Team
    task: dict[str, Any]

    @property
    def url(self) -> str:
        return f"{self.team.tasks_url}/{self.task['id']}/attachments"


@pytest.fixture
async def files(team: Team) -> Files:
    task = (await team.member.client.post(team.tasks_url, json={"title": "Files"})).json()
    return Files(team, task)


async def stored(db: Database) -> tuple[int, int, int]:
    """Attachments, GridFS files and GridFS chunks stored."""
    return (
        await db["attachments"].count_documents({}),
        await db["attachments.files"].count_documents({}),
        await db["attachments.chunks"].count_documents({}),
    )


async def usage(db: Database, project_id: str) -> int:
    found = await db["attachment_usage"].find_one({"_id": ObjectId(project_id)})
    return int(found["bytes"]) if found else 0
