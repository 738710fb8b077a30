"""Running migrations: which are applied (recorded in the database), a lock so two runners never
apply the same one, and up/down in order with progress.

Why not Beanie's migrations: they run from Beanie's own CLI with a directory of scripts, keep no
lock (two deploys at once would both run a migration), and offer no dry run, JSON report or exit
codes; this runner is a hundred lines on the project's own storage module.
"""

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from backend.core.storage.db import Database
from backend.core.time import utcnow
from backend.migrations import MIGRATIONS
from backend.migrations.migration import Migration, MigrationFailed, Outcome

APPLIED = "schema_migrations"
LOCKS = "schema_migrations_lock"
LOCK_SECONDS = 600  # a runner that died frees the lock after this; a live one renews it per batch
# What a database holds once anything was ever written to it: otherwise it is new.
_DATA = ("users", "projects", "tasks")


class Locked(Exception):
    """Another runner holds the lock."""


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    direction: str  # up | down
    changed: int
    seconds: float


async def applied_versions(database: Database) -> set[int]:
    return {int(doc["_id"]) for doc in await database[APPLIED].find({}, {"_id": 1}).to_list(None)}


async def pending(database: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[Migration]:
    done = await applied_versions(database)
    return [m for m in migrations if m.version not in done]


async def stamp_if_new(database: Database, migrations: Sequence[Migration] = MIGRATIONS) -> bool:
    """A database with no data starts at the latest version: nothing in it has an old shape."""
    for name in _DATA:
        if await database[name].count_documents({}, limit=1):
            return False
    if await database[APPLIED].count_documents({}, limit=1):
        return False
    now = utcnow()
    for migration in migrations:
        with contextlib.suppress(DuplicateKeyError):  # another process stamped it first
            await database[APPLIED].insert_one(
                {"_id": migration.version, "name": migration.name, "applied_at": now, "stamped": True}
            )
    return True


class Lock:
    def __init__(self, database: Database) -> None:
        self._locks = database[LOCKS]
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def acquire(self) -> None:
        now = utcnow()
        try:
            taken = await self._locks.find_one_and_update(
                {"_id": "migrations", "$or": [{"expires_at": {"$lt": now}}, {"owner": self.owner}]},
                {"$set": {"owner": self.owner, "expires_at": now + timedelta(seconds=LOCK_SECONDS)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError as exc:  # the lock exists and is held: the upsert collided
            holder = await self._locks.find_one({"_id": "migrations"})
            raise Locked(
                f"another runner holds the migration lock: {holder and holder.get('owner')}"
            ) from exc
        if taken is None or taken.get("owner") != self.owner:
            raise Locked("another runner holds the migration lock")

    async def renew(self) -> None:
        await self.acquire()

    async def release(self) -> None:
        await self._locks.delete_one({"_id": "migrations", "owner": self.owner})


async def up(
    database: Database,
    *,
    to: int | None = None,
    dry_run: bool = False,
    on_step: Callable[[Step], None] = lambda _: None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> list[Step]:
    """Apply the pending migrations in order (up to `to`), each recorded once it completes."""
    todo = [m for m in await pending(database, migrations) if to is None or m.version <= to]
    return await _run(database, todo, "up", dry_run=dry_run, on_step=on_step)


async def down(
    database: Database,
    *,
    to: int,
    dry_run: bool = False,
    on_step: Callable[[Step], None] = lambda _: None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> list[Step]:
    """Undo the applied migrations above version `to`, newest first."""
    done = await applied_versions(database)
    todo = [m for m in reversed(migrations) if m.version in done and m.version > to]
    for migration in todo:
        if not migration.reversible:
            raise MigrationFailed(
                f"{migration.version} {migration.name} cannot be undone; nothing was changed"
            )
    return await _run(database, todo, "down", dry_run=dry_run, on_step=on_step)


async def _run(
    database: Database,
    todo: list[Migration],
    direction: str,
    *,
    dry_run: bool,
    on_step: Callable[[Step], None],
) -> list[Step]:
    lock = Lock(database)
    if not dry_run:
        await lock.acquire()
    steps: list[Step] = []
    try:
        for migration in todo:
            started = time.perf_counter()

            def progress(_: int) -> None:
                pass

            run = migration.up if direction == "up" else migration.down
            outcome: Outcome = await run(database, dry_run=dry_run, progress=progress)
            if not dry_run:
                if direction == "up":
                    await database[APPLIED].update_one(
                        {"_id": migration.version},
                        {
                            "$set": {
                                "name": migration.name,
                                "applied_at": utcnow(),
                                "changed": outcome.changed,
                            }
                        },
                        upsert=True,
                    )
                else:
                    await database[APPLIED].delete_one({"_id": migration.version})
                await lock.renew()
            step = Step(
                migration.version, migration.name, direction, outcome.changed, time.perf_counter() - started
            )
            steps.append(step)
            on_step(step)
    finally:
        if not dry_run:
            await lock.release()
    return steps
