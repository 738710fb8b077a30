"""0006: watchers (issue 19): the people who would have started watching each existing task do so.

From this release a task's creator, its assignees and its commenters watch it as they act; for the
tasks made before, they are added here, so that they hear of those tasks' comments and status changes
too. Projects are read in batches by `_id`; per batch one read of their tasks, one of their comments'
authors and one of the watches they have, and the missing watches are inserted at once (a unique
index refuses any a concurrent request added meanwhile). Run again, it finds nothing missing.

`down` changes nothing: the previous release never reads watchers, and removing them would lose the
watches people chose since.
"""

from typing import Any

from bson import ObjectId

from backend.core.storage.db import Database, duplicates_skipped
from backend.core.time import utcnow
from backend.migrations.migration import Migration, Outcome, Progress, project_id_batches


class TaskWatchers(Migration):
    version = 6
    name = "task_watchers"
    reversible = True

    async def up(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        projects, tasks = database["projects"], database["tasks"]
        comments, watchers = database["comments"], database["task_watchers"]
        outcome = Outcome()
        async for ids in project_id_batches(projects, self.BATCH):
            wanted: dict[tuple[Any, Any], Any] = {}  # (task, user) -> project
            found = tasks.find(
                {"project_id": {"$in": ids}}, {"project_id": 1, "created_by": 1, "assignee_ids": 1}
            )
            for task in await found.to_list(None):
                for user_id in [task.get("created_by"), *(task.get("assignee_ids") or [])]:
                    if user_id is not None:
                        wanted[(task["_id"], user_id)] = task["project_id"]
            written = comments.find(
                {"project_id": {"$in": ids}}, {"project_id": 1, "task_id": 1, "author_id": 1}
            )
            for comment in await written.to_list(None):
                wanted[(comment["task_id"], comment["author_id"])] = comment["project_id"]
            have = watchers.find({"project_id": {"$in": ids}}, {"task_id": 1, "user_id": 1})
            for watch in await have.to_list(None):
                wanted.pop((watch["task_id"], watch["user_id"]), None)
            outcome.changed += len(wanted)
            if wanted and not dry_run:
                now = utcnow()
                with duplicates_skipped():
                    await watchers.insert_many(
                        [
                            {
                                "_id": ObjectId(),
                                "project_id": project_id,
                                "task_id": task_id,
                                "user_id": user_id,
                                "created_at": now,
                            }
                            for (task_id, user_id), project_id in sorted(wanted.items())
                        ],
                        ordered=False,
                    )
            progress(len(wanted))
        return outcome

    async def down(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        return Outcome()
