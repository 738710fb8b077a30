"""0005: every account gets a handle (issue 19): made from its email as registration makes one.

Accounts are read in batches by `_id`; per batch one query reads the handles already taken that begin
as the batch's would, each account without a handle gets the first free one (`ada`, `ada2`, ...), and
the batch is written in one round trip, each update only if the account still has no handle. An
account that registered meanwhile with the same handle wins: the batch is read again and the loser
gets the next free one. Run again, it finds every account with a handle and changes nothing.

`down` changes nothing: the previous release ignores the field, and people may have chosen theirs since.
"""

import re
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from backend.core.storage.db import Collection, Database, Update, bulk_update
from backend.migrations.migration import Migration, MigrationFailed, Outcome, Progress
from backend.users.handles import first_free, handle_base

_ATTEMPTS = 5


class UserHandles(Migration):
    version = 5
    name = "user_handles"
    reversible = True

    async def up(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        users = database["users"]
        outcome = Outcome()
        last = None
        while True:
            query: dict[str, Any] = {} if last is None else {"_id": {"$gt": last}}
            batch = (
                await users.find(query, {"email": 1, "handle": 1})
                .sort("_id", 1)
                .limit(self.BATCH)
                .to_list(None)
            )
            if not batch:
                return outcome
            last = batch[-1]["_id"]
            without = [user for user in batch if not isinstance(user.get("handle"), str)]
            changed = await self._give_handles(users, without, dry_run=dry_run)
            outcome.changed += changed
            progress(changed)

    async def _give_handles(self, users: Collection, accounts: list[dict[str, Any]], *, dry_run: bool) -> int:
        for _ in range(_ATTEMPTS):
            if not accounts:
                return 0
            bases = {user["_id"]: handle_base(str(user.get("email", ""))) for user in accounts}
            prefixes = "|".join(sorted({re.escape(base) for base in bases.values()}))
            taken = {
                str(found["handle"])
                for found in await users.find(
                    {"handle": {"$regex": f"^(?:{prefixes})"}}, {"handle": 1}
                ).to_list(None)
            }
            updates = []
            for user_id, base in bases.items():
                handle = first_free(base, taken)
                taken.add(handle)
                updates.append(Update({"_id": user_id, "handle": None}, {"$set": {"handle": handle}}))
            if dry_run:
                return len(updates)
            try:
                return await bulk_update(users, updates)
            except (BulkWriteError, DuplicateKeyError):
                # Someone took one of these handles meanwhile: those still without one go again.
                ids = list(bases)
                accounts = await users.find({"_id": {"$in": ids}, "handle": None}, {"email": 1}).to_list(None)
                continue
        raise MigrationFailed("Handles kept colliding with accounts registering meanwhile; run it again.")

    async def down(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        return Outcome()
