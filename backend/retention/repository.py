"""The queries of the deleted-task purge (retention/service.py): each removes by task, so re-running
after a crash midway finds nothing left to do for what went already."""

from datetime import datetime

from beanie import PydanticObjectId

from backend.comments.documents import Comment
from backend.core.storage.db import collection
from backend.notifications.documents import DueReminder, Notification, TaskWatcher
from backend.relations.documents import TaskRelation
from backend.tasks.documents import Task


class PurgeRepository:
    async def deleted_before(self, cutoff: datetime, limit: int) -> list[Task]:
        """Tasks deleted before the cutoff, the longest deleted first (the `deleted_due` index)."""
        found = Task.find({"deleted_at": {"$lt": cutoff}}).sort("+deleted_at").limit(limit)
        return await found.to_list()

    async def remove_dependents(self, project_id: PydanticObjectId, task_id: PydanticObjectId) -> None:
        """The task's comments, relations (either end), watchers, notifications and reminders given."""
        await collection(Comment).delete_many({"project_id": project_id, "task_id": task_id})
        await collection(TaskRelation).delete_many({"source_task_id": task_id})
        await collection(TaskRelation).delete_many({"target_task_id": task_id})
        await collection(TaskWatcher).delete_many({"task_id": task_id})
        await collection(Notification).delete_many({"task_id": task_id})
        await collection(DueReminder).delete_many({"task_id": task_id})

    async def remove_task(self, task_id: PydanticObjectId, cutoff: datetime) -> bool:
        """Last: the task itself, unless it was restored meanwhile (then it stays, without what went)."""
        result = await collection(Task).delete_one({"_id": task_id, "deleted_at": {"$lt": cutoff}})
        return bool(result.deleted_count)
