"""Due-soon reminders: a scheduled job (backend/worker.py, every minute) tells each assignee of a
live, open task due within the lead time (`REMINDER_LEAD_MINUTES`), once per task and due date.

Once only, whatever the runs and workers: each reminder is first claimed as a `DueReminder` whose
_id is its key (task, due date, person), so two runs at once claim it once, and only the run whose
claim landed writes the notification and announces it. (A run killed between the claim and the
notification loses that reminder: at most once, never twice.) A changed due date is a new key: it
reminds again. Tasks due already (the job was down) are not reminded of: overdue, not due soon.

Who may read a reminder is decided when it is read, as for every notification; it is given only to
the project's current members.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from beanie import PydanticObjectId

from backend.access.facts import AccessFacts
from backend.core.time import utcnow
from backend.notifications.documents import DueReminder, Notification, NotificationKind
from backend.notifications.repository import ReminderRepository
from backend.notifications.service import NotificationService
from backend.projects.documents import ProjectRole
from backend.tasks.documents import Task

log = structlog.get_logger(__name__)
BATCH = 500  # tasks read per query: a run's memory is bounded whatever the window holds


def reminder_key(task_id: PydanticObjectId, due_at: datetime, user_id: PydanticObjectId) -> str:
    return f"{task_id}:{due_at.isoformat()}:{user_id}"


class DueReminders:
    def __init__(self, facts: AccessFacts, notifications: NotificationService, lead: timedelta) -> None:
        self._facts = facts
        self._notifications = notifications
        self._lead = lead
        self._reminders = ReminderRepository()

    async def run(self, now: datetime | None = None) -> int:
        """Give the reminders due now; how many this run wrote. Two round trips per batch of tasks,
        plus the insert when there is anything new."""
        now = now or utcnow()
        written = 0
        last: Task | None = None
        while True:
            tasks = await self._reminders.due_between(now, now + self._lead, after_task=last, limit=BATCH)
            if not tasks:
                return written
            written += await self._remind(tasks, now)
            if len(tasks) < BATCH:
                return written
            last = tasks[-1]

    async def _remind(self, tasks: list[Task], now: datetime) -> int:
        given = await self._reminders.given({t.id for t in tasks if t.id is not None})
        members: dict[PydanticObjectId, Mapping[PydanticObjectId, ProjectRole]] = {}
        wanted: dict[str, Notification] = {}
        for task in tasks:
            assert task.id is not None
            assert task.due_at is not None
            if task.project_id not in members:
                found = await self._facts.member_map(task.project_id)  # mostly the process's copy
                members[task.project_id] = {} if found is None else found.roles
            for person in sorted(set(task.assignee_ids)):
                key = reminder_key(task.id, task.due_at, person)
                if key in given or person not in members[task.project_id]:
                    continue
                wanted[key] = Notification(
                    id=PydanticObjectId(),
                    user_id=person,
                    project_id=task.project_id,
                    task_id=task.id,
                    task_key=task.key,
                    kind=NotificationKind.DUE_SOON,
                    actor_id=None,
                    activity_id=None,
                    created_at=now,
                    due_at=task.due_at,
                )
        claimed = await self._reminders.claim(
            [DueReminder(id=k, task_id=n.task_id) for k, n in wanted.items()]
        )
        written = [n for k, n in wanted.items() if k in claimed]
        await self._reminders.insert(written)
        if written:
            await self._notifications.announce(written)
            log.info("due_reminders_given", count=len(written))
        return len(written)
