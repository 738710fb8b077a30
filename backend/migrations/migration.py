"""What a migration is: a version, a name, and an `up` (and maybe a `down`) that are idempotent
and resumable: each works in batches over documents that still need the change, so running it
again after a crash halfway finishes the job and changes nothing twice."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from backend.core.storage.db import Collection, Database

Progress = Callable[[int], None]  # called with how many documents a batch changed


class MigrationFailed(Exception):
    """A migration that cannot go on without a person (the message says what to do)."""


@dataclass
class Outcome:
    changed: int = 0  # documents changed (or, in a dry run, that would change)


class Migration:
    version: ClassVar[int]
    name: ClassVar[str]
    reversible: ClassVar[bool] = False
    BATCH = 500

    async def up(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        raise NotImplementedError

    async def down(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        raise MigrationFailed(f"{self.version} {self.name} cannot be undone")


async def project_id_batches(projects: Collection, size: int) -> AsyncIterator[list[Any]]:
    """Every project's `_id`, `size` at a time in `_id` order (resumable: each batch starts after the
    last id seen, so projects created meanwhile are not skipped)."""
    last = None
    while True:
        query: dict[str, Any] = {} if last is None else {"_id": {"$gt": last}}
        batch = await projects.find(query, {"_id": 1}).sort("_id", 1).limit(size).to_list(None)
        if not batch:
            return
        last = batch[-1]["_id"]
        yield [project["_id"] for project in batch]
