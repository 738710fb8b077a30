"""0003: every task gets a board rank (issue 20), in the order its board had: by `position`, ties by
creation (`_id`), as `sort=position` listed it.

Each project that still has a task without a rank is ranked whole: its ranks are cleared, then its
tasks get the integer keys of their places (1, 2, ...: tasks/ranks.initial_rank), a batch at a time.
Clearing first means no rank written meets one still in use (ranks are unique per project), and a
run that died halfway redoes that project from the start. A place is at most the number of tasks,
never above the project's last task number, so every task created later is ranked below none of
them: it goes last, as it would have. `down` removes every rank.
"""

from typing import Any

from backend.core.storage.db import Collection, Database, Update, bulk_update
from backend.migrations.migration import Migration, Outcome, Progress, project_id_batches
from backend.tasks.ranks import initial_rank


class TaskRanks(Migration):
    version = 3
    name = "task_ranks"
    reversible = True

    async def up(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        projects, tasks = database["projects"], database["tasks"]
        outcome = Outcome()
        async for batch in project_id_batches(projects, self.BATCH):
            for project_id in batch:
                unranked = await tasks.find_one({"project_id": project_id, "rank": None}, {"_id": 1})
                if unranked is None:
                    continue
                ranked = await self._rank_project(tasks, project_id, dry_run=dry_run)
                outcome.changed += ranked
                progress(ranked)
        return outcome

    async def _rank_project(self, tasks: Collection, project_id: Any, *, dry_run: bool) -> int:
        if dry_run:
            return int(await tasks.count_documents({"project_id": project_id}))
        await tasks.update_many({"project_id": project_id}, {"$unset": {"rank": ""}})
        placed = 0
        after: dict[str, Any] = {}
        while True:
            # In board order, by the project_position index: (position, _id) after the last batch.
            batch = (
                await tasks.find({"project_id": project_id, **after}, {"position": 1})
                .sort([("position", 1), ("_id", 1)])
                .limit(self.BATCH)
                .to_list(None)
            )
            if not batch:
                return placed
            ranks = [
                Update({"_id": task["_id"]}, {"$set": {"rank": initial_rank(placed + n)}})
                for n, task in enumerate(batch, start=1)
            ]
            await bulk_update(tasks, ranks)
            placed += len(batch)
            position, task_id = batch[-1]["position"], batch[-1]["_id"]
            after = {
                "$or": [{"position": {"$gt": position}}, {"position": position, "_id": {"$gt": task_id}}]
            }

    async def down(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        tasks = database["tasks"]
        if dry_run:
            return Outcome(changed=int(await tasks.count_documents({})))
        result = await tasks.update_many({}, {"$unset": {"rank": ""}})
        progress(int(result.modified_count))
        return Outcome(changed=int(result.modified_count))
