"""What a migration is: a version, a name, and an `up` (and maybe a `down`) that are idempotent
and resumable: each works in batches over documents that still need the change, so running it
again after a crash halfway finishes the job and changes nothing twice."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from backend.core.storage.db import Database

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
