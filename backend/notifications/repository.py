"""Every query of watchers and notifications."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from backend.core.pagination import CursorCodec, after
from backend.core.storage.db import aggregate, by_id, collection, duplicates_skipped
from backend.core.storage.pages import time_ordered_page
from backend.notifications.documents import DueReminder, Notification, TaskWatcher
from backend.tasks.documents import CLOSED_STATUSES, Task


class WatcherRepository:
    async def watchers_of(self, task_ids: Collection[PydanticObjectId]) -> list[TaskWatcher]:
        """The watchers of these tasks, in one query (the tasks of one change: few)."""
        if not task_ids:
            return []
        return await TaskWatcher.find({"task_id": {"$in": list(task_ids)}}).to_list()

    async def add_missing(self, watchers: list[TaskWatcher]) -> None:
        """In one round trip: a watch that exists already (a race) is refused by the unique index and
        skipped. The watchers' ids must be set (insert_many does not fill them in)."""
        if watchers:
            with duplicates_skipped():
                await TaskWatcher.insert_many(watchers, ordered=False)

    async def remove(self, task_id: PydanticObjectId, user_id: PydanticObjectId) -> None:
        await collection(TaskWatcher).delete_one({"task_id": task_id, "user_id": user_id})

    async def oldest_first(
        self,
        project_id: PydanticObjectId,
        task_id: PydanticObjectId,
        *,
        codec: CursorCodec,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[TaskWatcher], str | None]:
        return await time_ordered_page(
            TaskWatcher,
            {"project_id": project_id, "task_id": task_id},
            codec=codec,
            scope=f"watchers:{task_id}",
            cursor=cursor,
            limit=limit,
            newest_first=False,
        )


class NotificationRepository:
    async def insert_many(self, notifications: list[Notification]) -> None:
        """In one insert; the notifications' ids must be set."""
        if notifications:
            await Notification.insert_many(notifications)

    async def by_id(self, notification_id: PydanticObjectId) -> Notification | None:
        return await by_id(Notification, notification_id)  # by _id alone; callers check the owner

    async def unread_by_project(self, user_id: PydanticObjectId) -> dict[PydanticObjectId, int]:
        """How many unread notifications the user has in each project, in one round trip."""
        rows = await aggregate(
            collection(Notification),
            [
                {"$match": {"user_id": user_id, "read_at": None}},
                {"$group": {"_id": "$project_id", "unread": {"$sum": 1}}},
            ],
        )
        return {PydanticObjectId(row["_id"]): int(row["unread"]) for row in rows}

    async def projects_of(self, user_id: PydanticObjectId) -> list[PydanticObjectId]:
        """The projects the user has any notification from."""
        found = await collection(Notification).distinct("project_id", {"user_id": user_id})
        return [PydanticObjectId(p) for p in found]

    async def newest_first(
        self,
        user_id: PydanticObjectId,
        project_ids: Collection[PydanticObjectId],
        *,
        unread: bool,
        codec: CursorCodec,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Notification], str | None]:
        conditions: dict[str, Any] = {"user_id": user_id, "project_id": {"$in": sorted(project_ids)}}
        if unread:
            conditions["read_at"] = None
        return await time_ordered_page(
            Notification,
            conditions,
            codec=codec,
            scope=f"notifications:{user_id}:{unread}",
            cursor=cursor,
            limit=limit,
            newest_first=True,
        )

    async def after(self, last: Notification, limit: int) -> list[Notification]:
        """The user's notifications written after `last`, oldest first (resuming a stream)."""
        assert last.id is not None
        later = after("created_at", last.created_at, last.id)
        return (
            await Notification.find({"user_id": last.user_id, **later})
            .sort("+created_at", "+_id")
            .limit(limit)
            .to_list()
        )

    async def mark_read(
        self,
        user_id: PydanticObjectId,
        *,
        project_ids: Collection[PydanticObjectId],
        ids: Collection[PydanticObjectId],
        up_to: datetime | None,
        now: datetime,
    ) -> int:
        """Marks the user's unread notifications of these projects with these ids, or created up to
        `up_to`, as read."""
        conditions: list[dict[str, Any]] = []
        if ids:
            conditions.append({"_id": {"$in": sorted(ids)}})
        if up_to is not None:
            conditions.append({"created_at": {"$lte": up_to}})
        if not conditions or not project_ids:
            return 0
        query: dict[str, Any] = {
            "user_id": user_id,
            "read_at": None,
            "project_id": {"$in": sorted(project_ids)},
        }
        query.update(conditions[0] if len(conditions) == 1 else {"$or": conditions})
        result = await collection(Notification).update_many(query, {"$set": {"read_at": now}})
        return int(result.modified_count)


class ReminderRepository:
    """The reminder job's queries: live tasks due within a window, and the reminders already given."""

    async def due_between(
        self, start: datetime, end: datetime, *, after_task: Task | None, limit: int
    ) -> list[Task]:
        """Live, open tasks due in [start, end], in (due_at, _id) order after `after_task`: the
        `deleted_due` index (deleted_at, due_at, _id) bounds the scan to the window."""
        window: dict[str, Any] = {"due_at": {"$gte": start, "$lte": end}}
        if after_task is not None:
            assert after_task.id is not None
            window = {"$and": [window, after("due_at", after_task.due_at, after_task.id)]}
        query = {
            **window,
            "deleted_at": None,
            "status": {"$nin": [str(s) for s in CLOSED_STATUSES]},
        }
        return await Task.find(query).sort("+due_at", "+_id").limit(limit).to_list()

    async def given(self, task_ids: Collection[PydanticObjectId]) -> set[str]:
        """The keys of the reminders already given for these tasks (any due date), in one query."""
        if not task_ids:
            return set()
        found = collection(DueReminder).find({"task_id": {"$in": sorted(task_ids)}}, {"_id": 1})
        return {str(row["_id"]) async for row in found}

    async def claim(self, reminders: list[DueReminder]) -> set[str]:
        """Claims the reminders in one round trip; answers the keys claimed by this call (those
        another run claimed first are refused by the unique _id)."""
        if not reminders:
            return set()
        with duplicates_skipped() as refused:
            await DueReminder.insert_many(reminders, ordered=False)
        return {r.id for i, r in enumerate(reminders) if i not in refused}

    async def insert(self, notifications: list[Notification]) -> None:
        if notifications:
            await Notification.insert_many(notifications)
