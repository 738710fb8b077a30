"""The job queue (saq on Redis): delivery attempts are jobs keyed by delivery and attempt, so the
same attempt queued twice (the relay and the sweep, two workers) is one job; MongoDB still decides
who makes it (`DeliveryRepository.claim`)."""

import asyncio
import time
from datetime import datetime

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Job
from saq.queue.redis import RedisQueue

from backend.core.config import Settings

log = structlog.get_logger(__name__)
QUEUE_NAME = "tasklane"
DEQUEUE_TIMEOUT = 1.0  # seconds a worker blocks on an empty queue before looking again


IN_PROCESS_POLL = 0.1  # seconds an idle worker loop waits on the in-process Redis


class InProcessQueue(RedisQueue):
    """The queue on fakeredis, whose blocking pops return at once when the list is empty (measured:
    saq's worker loops then spun at ~1,600 commands a second): an empty pop waits a little."""

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        job = await super().dequeue(timeout, poll_interval)
        if job is None:
            await asyncio.sleep(IN_PROCESS_POLL)
        return job


def make_queue(settings: Settings, in_process_redis: Redis) -> RedisQueue:
    """On the app's in-process Redis without REDIS_URL; else a client of its own, whose socket
    timeout outlasts a blocking dequeue (the app's is the cache's short timeout)."""
    if settings.redis_url is None:
        queue = InProcessQueue(in_process_redis, name=QUEUE_NAME)
        # fakeredis has no INFO, whence saq reads the server version; it behaves as a 7.x.
        queue._version = (7, 0, 0)
        return queue
    client = Redis.from_url(
        settings.redis_url,
        socket_timeout=DEQUEUE_TIMEOUT + settings.redis_timeout_seconds + 1,
        socket_connect_timeout=settings.redis_timeout_seconds,
    )
    return RedisQueue(client, name=QUEUE_NAME)


class DeliveryQueue:
    def __init__(self, queue: RedisQueue, settings: Settings) -> None:
        self.queue = queue
        self._timeout = int(settings.webhook_timeout_seconds) + 5

    async def attempt(self, delivery_id: str, attempts: int, due_at: datetime) -> bool:
        """Queue the attempt after `attempts` made; False when Redis refused (the sweep queues it
        again from MongoDB later, so nothing is lost)."""
        job = Job(
            "deliver",
            kwargs={"delivery_id": delivery_id, "attempts": attempts},
            key=f"deliver:{delivery_id}:{attempts}",
            scheduled=int(due_at.timestamp()) if due_at.timestamp() > time.time() + 0.5 else 0,
            timeout=self._timeout,
            retries=1,  # a failed attempt is retried by its delivery's schedule, not by the queue
        )
        try:
            await self.queue.enqueue(job)
        except (TimeoutError, RedisError, OSError) as exc:
            log.warning("webhook_enqueue_failed", delivery_id=delivery_id, error=str(exc))
            return False
        return True
