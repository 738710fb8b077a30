"""The outbox and its workers.

The outbox source is the activity log: every acknowledged change is answered only after its
activity record is stored in MongoDB (`ActivityService.record_change`), so the record is already a
durable note of the change, written with it; a second note per change would cost each write a
round trip and add nothing. The relay reads new records of projects with active webhooks, writes a
delivery per subscribed webhook (unique per webhook and record: relaying twice adds nothing), then
queues its first attempt. When Redis or every worker is down, the deliveries wait in MongoDB and
the sweep queues them once the queue answers again; the relay's checkpoint only moves forward once
the deliveries are stored. Delivery is at least once, with the record's id in `webhook-id`.
"""

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
import structlog
from beanie import PydanticObjectId

from backend.activity.documents import ActivityRecord
from backend.activity.documents import Target as ActivityTarget
from backend.activity.schemas import ActivityRead
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.core.caching.generations import Generations
from backend.core.config import Environment, Settings
from backend.core.time import utcnow
from backend.webhooks.documents import PING, DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from backend.webhooks.queue import DeliveryQueue
from backend.webhooks.repository import DeliveryRepository, RelayRepository, WebhookRepository
from backend.webhooks.sender import Outcome, send
from backend.webhooks.signing import signed_headers
from backend.webhooks.targets import Refused, resolve

log = structlog.get_logger(__name__)

# Records younger than this are read again by the next pass: one stored late by a slow writer
# (its time taken before a slow insert) is still relayed. Repeats are dropped in memory, and by
# the unique index across workers and restarts.
SETTLE = timedelta(seconds=10)
RELAY_BATCH = 500
SWEEP_GRACE = timedelta(seconds=2)
EVENT_VERBS = [event.value for event in WebhookEvent]


def message_id(event_id: PydanticObjectId) -> str:
    return f"msg_{event_id}"


def event_payload(event_type: str, sent_for: datetime, data: dict[str, Any]) -> str:
    """The Standard Webhooks payload: `type`, `timestamp`, `data`; compact, signed as sent."""
    body = {"type": event_type, "timestamp": sent_for.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def retry_delay(settings: Settings, attempts: int) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(attempts-1))], at
    least a tenth of the base (so a flapping receiver is not hammered)."""
    ceiling = min(
        settings.webhook_retry_max_seconds, settings.webhook_retry_base_seconds * 2 ** (attempts - 1)
    )
    return max(settings.webhook_retry_base_seconds / 10, random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret


class Outbox:
    def __init__(
        self,
        settings: Settings,
        activity: ActivityService,
        generations: Generations,
        queue: DeliveryQueue,
        http: httpx.AsyncClient,
    ) -> None:
        self._settings = settings
        self._activity = activity
        self._generations = generations
        self._queue = queue
        self._http = http
        self._webhooks = WebhookRepository()
        self._deliveries = DeliveryRepository()
        self._relay = RelayRepository()
        self._relayed: dict[PydanticObjectId, datetime] = {}  # records of the settle window, relayed
        self._read_on_from: datetime | None = None

    # -- relay: activity log -> deliveries -> queue ------------------------------------------------

    async def relay_once(self) -> int:
        """One pass; how many deliveries it added."""
        now = utcnow()
        webhooks = await self._webhooks.active()
        if not webhooks:
            await self._relay.settle(now - SETTLE)
            return 0
        settled_until = await self._relay.settled_until() or now - SETTLE
        # Past a full batch, this worker reads on from where it stopped; caught up, from the
        # checkpoint again (the settle window: records a slow writer stored late).
        since = max(settled_until, self._read_on_from) if self._read_on_from else settled_until
        by_project: dict[PydanticObjectId, list[Webhook]] = defaultdict(list)
        for webhook in webhooks:
            by_project[webhook.project_id].append(webhook)
        records = await self._relay.activity_since(since, list(by_project), EVENT_VERBS, RELAY_BATCH)
        fresh = [r for r in records if r.id not in self._relayed]
        deliveries = [
            self._delivery(webhook, read)
            for read in await self._activity.read(fresh)
            for webhook in by_project[read.project_id]
            if WebhookEvent(read.verb) in webhook.events and read.created_at >= webhook.created_at
        ]
        added = await self._deliveries.insert_missing(deliveries)
        for delivery in added:
            await self._queue.attempt(str(delivery.id), 0, delivery.due_at)
        for record in fresh:
            assert record.id is not None
            self._relayed[record.id] = record.created_at
        settled = now - SETTLE
        self._read_on_from = None
        if len(records) == RELAY_BATCH:  # more to read: settle no further than this batch
            self._read_on_from = records[-1].created_at - timedelta(milliseconds=1)
            settled = min(settled, self._read_on_from)
        await self._relay.settle(settled)
        self._relayed = {k: at for k, at in self._relayed.items() if at > settled - SETTLE}
        return len(added)

    def _delivery(self, webhook: Webhook, read: ActivityRead) -> WebhookDelivery:
        assert webhook.id is not None
        assert read.id is not None
        return WebhookDelivery(
            webhook_id=webhook.id,
            project_id=webhook.project_id,
            event_id=read.id,
            message_id=message_id(read.id),
            event_type=read.verb,
            payload=event_payload(read.verb, read.created_at, read.model_dump(mode="json")),
        )

    async def ping(self, webhook: Webhook) -> WebhookDelivery:
        assert webhook.id is not None
        event_id = PydanticObjectId()
        now = utcnow()
        data = {"webhook_id": str(webhook.id), "project_id": str(webhook.project_id)}
        delivery = WebhookDelivery(
            webhook_id=webhook.id,
            project_id=webhook.project_id,
            event_id=event_id,
            message_id=message_id(event_id),
            event_type=PING,
            payload=event_payload(PING, now, data),
        )
        return await self.add(delivery)

    async def redeliver(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """The same message again (same `webhook-id` and body), as a delivery of its own."""
        assert delivery.id is not None
        again = WebhookDelivery(
            webhook_id=delivery.webhook_id,
            project_id=delivery.project_id,
            event_id=PydanticObjectId(),  # its own outbox key; the message stays the same
            message_id=delivery.message_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
            redelivery_of=delivery.id,
        )
        return await self.add(again)

    async def add(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """Store a delivery, then queue its first attempt (stored first: the sweep finds it if the
        queue is down)."""
        await self._deliveries.insert(delivery)
        await self._queue.attempt(str(delivery.id), 0, delivery.due_at)
        return delivery

    # -- sweep: attempts the queue lost ------------------------------------------------------------

    async def sweep_once(self) -> int:
        now = utcnow()
        lost = await self._deliveries.lost(now - SWEEP_GRACE, RELAY_BATCH)
        for delivery in lost:
            await self._queue.attempt(str(delivery.id), delivery.attempts, now)
        return len(lost)

    # -- one attempt -------------------------------------------------------------------------------

    async def deliver(self, delivery_id: str, attempts: int) -> str:
        """Make attempt `attempts + 1` of the delivery, if no one else has; what became of it."""
        settings = self._settings
        now = utcnow()
        lease = now + timedelta(seconds=settings.webhook_timeout_seconds + 5)
        delivery = await self._deliveries.claim(PydanticObjectId(delivery_id), attempts, now, lease)
        if delivery is None:
            return "taken"
        assert delivery.id is not None
        webhook = await self._webhooks.by_id(delivery.webhook_id)
        if webhook is None or not webhook.active:
            why = "the webhook was deleted" if webhook is None else "the webhook is disabled"
            await self._finish(delivery, DeliveryStatus.FAILED, None, error=why)
            return "dropped"
        outcome = await self._attempt(webhook, delivery)
        if outcome.succeeded:
            # The run of failures ends before the delivery shows its success, so whoever reads a
            # succeeded delivery reads the reset count too.
            if webhook.consecutive_failures:  # as read just now: most successes skip this write
                await self._webhooks.succeeded(webhook.id)  # type: ignore[arg-type]
            await self._finish(delivery, DeliveryStatus.SUCCEEDED, outcome)
            return "succeeded"
        still_active = await self._count_failure(webhook)
        next_at = utcnow() + timedelta(seconds=retry_delay(settings, delivery.attempts))
        horizon = delivery.created_at + timedelta(seconds=settings.webhook_retry_horizon_seconds)
        if still_active and next_at <= horizon:
            await self._finish(delivery, DeliveryStatus.PENDING, outcome, due_at=next_at)
            await self._queue.attempt(delivery_id, delivery.attempts, next_at)
            return "retrying"
        error = outcome.error if still_active else f"{outcome.error or 'failed'}; the webhook was disabled"
        await self._finish(delivery, DeliveryStatus.FAILED, outcome, error=error)
        return "failed"

    async def _attempt(self, webhook: Webhook, delivery: WebhookDelivery) -> Outcome:
        settings = self._settings
        try:
            target = await resolve(
                webhook.url,
                https_only=settings.environment is Environment.PRODUCTION,
                allow_private=settings.webhook_allow_private_targets,
            )
        except Refused as exc:
            return Outcome(None, None, 0, f"target refused: {exc}")
        headers = signed_headers(webhook.secret, delivery.message_id, utcnow(), delivery.payload)
        return await send(
            self._http,
            target,
            headers,
            delivery.payload,
            timeout=settings.webhook_timeout_seconds,
            max_bytes=settings.webhook_response_max_bytes,
        )

    async def _count_failure(self, webhook: Webhook) -> bool:
        """Counts the failure; False when it disabled the webhook (and told the project's admins)."""
        assert webhook.id is not None
        after = await self._webhooks.failed_once_more(webhook.id)
        if after is None or not after.active:
            return False
        limit = self._settings.webhook_failures_to_disable
        if after.consecutive_failures < limit:
            return True
        reason = f"{after.consecutive_failures} failed attempts in a row"
        if await self._webhooks.disable(webhook.id, reason, utcnow()):
            log.warning("webhook_disabled", webhook_id=str(webhook.id), reason=reason)
            # Its activity record reaches the project's stream, and through activity's listener a
            # `webhook_disabled` notification reaches each admin and owner (notifications/service.py).
            record = self._activity_record(after, reason)
            await self._activity.record_change([record], partial(self._generations.bump, after.project_id))
        return False

    def _activity_record(self, webhook: Webhook, reason: str) -> ActivityRecord:
        assert webhook.id is not None
        return ActivityRecord(
            project_id=webhook.project_id,
            actor_id=webhook.created_by,
            verb=ActivityVerb.WEBHOOK_DISABLED,
            target=ActivityTarget(type="webhook", id=webhook.id, key=webhook.url[:200]),
            changes={},
        )

    async def _finish(
        self,
        delivery: WebhookDelivery,
        status: DeliveryStatus,
        outcome: Outcome | None,
        *,
        error: str | None = None,
        due_at: datetime | None = None,
    ) -> None:
        assert delivery.id is not None
        changes: dict[str, Any] = {"status": status.value, "updated_at": utcnow()}
        if outcome is not None:
            changes |= {
                "response_status": outcome.status,
                "response_body": outcome.body,
                "latency_ms": outcome.latency_ms,
                "error": outcome.error,
            }
        if error is not None:
            changes["error"] = error
        if due_at is not None:
            changes["due_at"] = due_at
        await self._deliveries.finish_attempt(delivery.id, delivery.attempts, changes)

    # -- retention ---------------------------------------------------------------------------------

    async def purge(self) -> int:
        cutoff = utcnow() - timedelta(days=self._settings.webhook_delivery_retention_days)
        purged = await self._deliveries.purge(cutoff)
        log.info("webhook_deliveries_purged", purged=purged)
        return purged


async def every(seconds: float, step: Callable[[], Awaitable[int]], name: str) -> None:
    """Run `step` forever, `seconds` apart; a failure (MongoDB or Redis away) is logged and retried."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a background loop must outlive any one failure
            log.warning("worker_step_failed", step=name, error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(seconds)
