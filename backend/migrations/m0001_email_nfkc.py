"""0001: emails compared after NFKC and case folding (issue 14): `email_normalized` recomputed.

ASCII addresses do not change; an address with full-width or other compatibility characters does.
Two accounts that become the same address cannot both keep it: the migration stops and names them
(merge or rename one by hand, then run it again).
"""

from typing import Any

from backend.core.storage.db import Database
from backend.migrations.migration import Migration, MigrationFailed, Outcome, Progress
from backend.users.schemas import normalize_email


def _old_normalization(email: str) -> str:
    return email.strip().lower()


class EmailNfkc(Migration):
    version = 1
    name = "email_nfkc"
    reversible = True

    async def up(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        return await self._renormalize(database, normalize_email, dry_run=dry_run, progress=progress)

    async def down(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        return await self._renormalize(database, _old_normalization, dry_run=dry_run, progress=progress)

    async def _renormalize(
        self, database: Database, normalize: Any, *, dry_run: bool, progress: Progress
    ) -> Outcome:
        users = database["users"]
        outcome = Outcome()
        changes: list[tuple[Any, str]] = []
        # Every account is read (by _id, in batches): the rule applies to the stored `email`.
        last = None
        while True:
            query: dict[str, Any] = {} if last is None else {"_id": {"$gt": last}}
            batch = (
                await users.find(query, {"email": 1, "email_normalized": 1})
                .sort("_id", 1)
                .limit(self.BATCH)
                .to_list(None)
            )
            if not batch:
                break
            last = batch[-1]["_id"]
            for user in batch:
                wanted = normalize(user.get("email", ""))
                if wanted != user.get("email_normalized"):
                    changes.append((user["_id"], wanted))
        targets = [wanted for _, wanted in changes]
        clashes = await users.find(
            {"email_normalized": {"$in": targets}, "_id": {"$nin": [i for i, _ in changes]}}, {"_id": 1}
        ).to_list(None)
        if clashes or len(set(targets)) != len(targets):
            ids = sorted(str(c["_id"]) for c in clashes)
            raise MigrationFailed(
                f"{len(ids) or 'some'} accounts would share an email address after NFKC normalisation "
                f"({', '.join(ids[:10])}): rename or merge them, then run `tasklane migrate up` again"
            )
        for user_id, wanted in changes:
            outcome.changed += 1
            if not dry_run:
                await users.update_one({"_id": user_id}, {"$set": {"email_normalized": wanted}})
        progress(outcome.changed)
        return outcome
