"""The purge of tasks deleted longer than `DELETED_TASK_RETENTION_DAYS` (the daily purge job,
backend/worker.py): their attachments with their chunks, comments, relations, watchers and
notifications, then the task. A task deleted more recently stays restorable with all of it.

Bounded: batches of `BATCH` tasks, at most `MAX_BATCHES` a run (the next day's run goes on).
Idempotent and safe after a crash midway: every step removes by task and the task goes last, so a
task half purged is found again by the next run, which redoes what is left.
"""

from datetime import datetime, timedelta

import structlog

from backend.attachments.service import AttachmentService
from backend.core.time import utcnow
from backend.retention.repository import PurgeRepository

log = structlog.get_logger(__name__)
BATCH = 100
MAX_BATCHES = 100


class DeletedTaskPurge:
    def __init__(self, attachments: AttachmentService, retention: timedelta) -> None:
        self._attachments = attachments
        self._retention = retention
        self._repository = PurgeRepository()

    async def run(self, now: datetime | None = None) -> int:
        """Purge what is past retention; how many tasks went."""
        cutoff = (now or utcnow()) - self._retention
        purged = 0
        for _ in range(MAX_BATCHES):
            tasks = await self._repository.deleted_before(cutoff, BATCH)
            for task in tasks:
                assert task.id is not None
                await self._attachments.purge_task(task.project_id, task.id)
                await self._repository.remove_dependents(task.project_id, task.id)
                purged += await self._repository.remove_task(task.id, cutoff)
            if len(tasks) < BATCH:
                break
        log.info("deleted_tasks_purged", purged=purged)
        return purged
