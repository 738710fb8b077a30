"""Background work on the job queue (saq on Redis): webhook delivery, the outbox relay and sweep,
and scheduled jobs. `tasklane worker` runs it in processes of its own (as many as wanted, on any
machine); without Redis it runs inside the API process, so one command runs everything."""

import asyncio
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

import certifi
import httpx
import structlog
from saq import CronJob, Worker
from saq.queue.redis import RedisQueue
from saq.types import Context

from backend.activity.dependencies import activity_service
from backend.attachments.dependencies import attachment_service
from backend.core.cancellation import cancel_until_done
from backend.notifications.dependencies import notification_service
from backend.notifications.reminders import DueReminders
from backend.resources import AppResources
from backend.retention.service import DeletedTaskPurge
from backend.webhooks.outbox import Outbox, every
from backend.webhooks.queue import DEQUEUE_TIMEOUT, DeliveryQueue, make_queue

log = structlog.get_logger(__name__)
PURGE_SCHEDULE = "17 3 * * *"  # daily, off the hour
# Every minute: a reminder is at most a minute late whatever the lead time (even a short one), and a
# run is an index range scan of the tasks due in the window plus one lookup per batch of 500.
REMIND_SCHEDULE = "* * * * *"


class InProcessWorker(Worker[Context]):
    """A saq worker that leaves signals to the process that runs it (uvicorn, or `tasklane worker`)."""

    SIGNALS: list[Any] = []  # noqa: RUF012 - saq reads it as a class attribute


@dataclass
class Background:
    """The queue and outbox of one process (the API queues pings and redeliveries through them),
    and its worker when the process runs one."""

    queue: RedisQueue
    outbox: Outbox
    http: httpx.AsyncClient
    owns_redis: bool  # the queue's own client (with REDIS_URL), closed with it
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    worker: Worker[Context] | None = None
    _grace: float = 0.0

    async def run_worker(self, resources: AppResources, *, concurrency: int | None = None) -> None:
        settings = resources.settings
        outbox = self.outbox

        async def deliver(ctx: Context, *, delivery_id: str, attempts: int) -> str:
            return await outbox.deliver(delivery_id, attempts)

        reminders = due_reminders(resources)
        task_purge = deleted_task_purge(resources)

        async def purge(ctx: Context) -> int:
            # Expired refresh tokens and sessions need nothing here: their TTL indexes remove them.
            return await outbox.purge() + await task_purge.run()

        async def remind(ctx: Context) -> int:
            return await reminders.run()

        self.worker = InProcessWorker(
            self.queue,
            functions=[("deliver", deliver)],
            cron_jobs=[
                CronJob(purge, cron=PURGE_SCHEDULE, timeout=600),
                CronJob(remind, cron=REMIND_SCHEDULE, timeout=50),
            ],
            # In process (no Redis), a few loops: they poll the in-process queue.
            concurrency=concurrency or (settings.worker_concurrency if settings.redis_url else 4),
            dequeue_timeout=DEQUEUE_TIMEOUT,
            # `stop` waits for attempts under way itself: saq's grace period would also wait for
            # every idle worker loop blocked on an empty queue.
            shutdown_grace_period_s=0,
        )
        self._grace = settings.webhook_timeout_seconds + 1
        self.tasks += [
            asyncio.create_task(self.worker.start()),
            asyncio.create_task(every(settings.webhook_relay_interval_seconds, outbox.relay_once, "relay")),
            asyncio.create_task(every(settings.webhook_sweep_interval_seconds, outbox.sweep_once, "sweep")),
        ]
        log.info("worker_started", concurrency=self.worker.concurrency)

    async def stop(self) -> None:
        if self.worker is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._grace
            while self.worker.job_task_contexts and loop.time() < deadline:
                await asyncio.sleep(0.05)
            await self.worker.stop()
        await cancel_until_done(self.tasks)
        await asyncio.gather(*self.tasks, return_exceptions=True)  # all ended: their errors retrieved
        await self.http.aclose()
        if self.owns_redis:
            await self.queue.redis.aclose()


@cache
def _tls_context() -> ssl.SSLContext:
    # httpx's own default (certifi's roots), loaded once a process instead of once an app: it
    # takes about 60 ms, and the test suite starts an app per test.
    return ssl.create_default_context(cafile=certifi.where())


def make_background(resources: AppResources) -> Background:
    settings = resources.settings
    stores = resources.stores
    queue = make_queue(settings, stores.redis)
    # Redirects are never followed; connections are per attempt's address (pinned after the check).
    http = httpx.AsyncClient(verify=_tls_context(), follow_redirects=False, trust_env=False)
    outbox = Outbox(
        settings, activity_service(resources), stores.generations, DeliveryQueue(queue, settings), http
    )
    return Background(queue, outbox, http, owns_redis=settings.redis_url is not None)


def due_reminders(resources: AppResources) -> DueReminders:
    lead = timedelta(minutes=resources.settings.reminder_lead_minutes)
    return DueReminders(resources.access_facts, notification_service(resources), lead)


def deleted_task_purge(resources: AppResources) -> DeletedTaskPurge:
    retention = timedelta(days=resources.settings.deleted_task_retention_days)
    return DeletedTaskPurge(attachment_service(resources), retention)
