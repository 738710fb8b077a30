"""Database work of attachment reads: bounded, and a range reads only the chunks it covers."""

import pytest

from backend.testing import CommandLog
from tests.attachments.conftest import PNG, SMALL, Files

pytestmark = pytest.mark.tasklane_settings(**SMALL)  # PNG spans 11 chunks of 4 KiB


async def uploaded(files: Files) -> str:
    created = await files.team.member.client.post(files.url, files={"file": ("a.png", PNG, "image/png")})
    assert created.status_code == 201
    # Warm, as for every request but a client's first: the caller and the project's member map known.
    await files.team.member.client.get(created.headers["location"])
    return str(created.headers["location"])


async def test_metadata_takes_at_most_four_round_trips(files: Files, mongo_commands: CommandLog) -> None:
    location = await uploaded(files)
    mongo_commands.clear()

    assert (await files.team.member.client.get(location)).status_code == 200

    # the project, the task, the attachment, the uploader's name
    assert len(mongo_commands.commands) <= 4, mongo_commands.commands


async def test_a_range_reads_only_the_chunks_it_covers(files: Files, mongo_commands: CommandLog) -> None:
    location = await uploaded(files)
    mongo_commands.clear()

    got = await files.team.member.client.get(f"{location}/content", headers={"Range": "bytes=12300-12400"})

    assert got.status_code == 206
    chunk_reads = [
        c for name, c in mongo_commands.commands if name == "find" and c["find"] == "attachments.chunks"
    ]
    assert [c["filter"]["n"] for c in chunk_reads] == [{"$gte": 3, "$lte": 3}]  # 12300 // 4096 == 3
    assert len(mongo_commands.commands) <= 5, mongo_commands.commands
