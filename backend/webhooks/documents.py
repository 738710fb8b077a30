from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class WebhookEvent(StrEnum):
    """The changes a webhook may subscribe to: activity verbs, sent as the payload's `type`."""

    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_DELETED = "task.deleted"
    TASK_RESTORED = "task.restored"
    COMMENT_CREATED = "comment.created"
    MEMBER_ADDED = "member.added"
    MEMBER_REMOVED = "member.removed"


PING = "webhook.ping"  # the `type` of a ping's payload; no one subscribes to it


class Webhook(Document):
    project_id: PydanticObjectId
    created_by: PydanticObjectId  # the actor of the activity record when the webhook is disabled
    url: str
    events: list[WebhookEvent]
    active: bool = True
    description: str = ""
    # `whsec_` + base64 key (Standard Webhooks). Kept readable: every delivery is signed with it.
    secret: str
    # Failed attempts in a row; reset by any success. At the setting's limit the webhook is disabled.
    consecutive_failures: int = 0
    disabled_reason: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    version: int = 1

    class Settings:
        name = "webhooks"
        indexes = [
            IndexModel(
                [("project_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="project_oldest",
            ),
            # The relay's one read of every subscription to relay.
            IndexModel([("active", ASCENDING)], name="active"),
        ]

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (`due_at`)
    SENDING = "sending"  # claimed by a worker until `lease_until`
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # no attempt left in the horizon, or the webhook is gone or disabled


class WebhookDelivery(Document):
    """One message to one webhook, and what its attempts got. The outbox's unit of work: a worker
    claims an attempt by moving `attempts` on in one conditional update, so two workers never make
    the same attempt."""

    webhook_id: PydanticObjectId
    project_id: PydanticObjectId
    # The outbox key: the activity record it tells of (a ping's or a redelivery's own id otherwise),
    # unique per webhook, so relaying a record twice adds nothing.
    event_id: PydanticObjectId
    # `webhook-id`: the same for every attempt and redelivery of the message, for receivers to dedupe.
    message_id: str
    event_type: str
    payload: str  # the exact body signed and sent
    redelivery_of: PydanticObjectId | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    due_at: UtcDatetime = Field(default_factory=utcnow)
    lease_until: UtcDatetime | None = None
    response_status: int | None = None
    response_body: str | None = None
    latency_ms: int | None = None
    error: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)

    class Settings:
        name = "webhook_deliveries"
        indexes = [
            IndexModel(
                [("webhook_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="webhook_newest",
            ),
            # Relaying an event twice (two workers, a restart) is refused here; a redelivery has its own.
            IndexModel(
                [("webhook_id", ASCENDING), ("event_id", ASCENDING)],
                name="webhook_event_unique",
                unique=True,
            ),
            # The sweep: attempts due (or leases run out) that the queue may have lost.
            IndexModel([("status", ASCENDING), ("due_at", ASCENDING)], name="status_due"),
            # Retention: deliveries past it are purged.
            IndexModel([("created_at", ASCENDING)], name="created"),
        ]


class RelayCheckpoint(Document):
    """How far the relay has read the activity log: every record created before `settled_until`
    has its deliveries (records newer are read again on the next pass, so one written late by a
    slow writer is not skipped)."""

    id: str  # type: ignore[assignment]  # one document per relay ("activity")
    settled_until: UtcDatetime

    class Settings:
        name = "webhook_relay"
