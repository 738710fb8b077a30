from typing import Annotated

from beanie import PydanticObjectId
from pydantic import AnyUrl, ConfigDict, Field, UrlConstraints

from backend.core.time import UtcDatetime
from backend.core.types import PartialUpdate, RequestBody, Schema
from backend.webhooks.documents import DeliveryStatus, WebhookEvent

TargetUrl = Annotated[
    AnyUrl,
    UrlConstraints(max_length=2000, allowed_schemes=["https", "http"]),
    Field(
        description="Where deliveries are POSTed. https in production; never a loopback, private, "
        "link-local or metadata address (checked when saved and before every attempt).",
        examples=["https://example.com/hooks/tasklane"],
    ),
]
Events = Annotated[
    list[WebhookEvent],
    Field(min_length=1, max_length=len(WebhookEvent), description="The changes to hear about (at least one)."),
]
Description = Annotated[str, Field(max_length=500, description="Up to 500 characters.")]


class WebhookCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"url": "https://example.com/hooks/tasklane", "events": ["task.created"]}]}
    )

    url: TargetUrl
    events: Events
    active: bool = True
    description: Description = ""


class WebhookUpdate(PartialUpdate):
    """Only the fields sent change. Activating a disabled webhook resets its run of failures."""

    url: TargetUrl | None = None
    events: Events | None = None
    active: bool | None = None
    description: Description | None = None


class WebhookRead(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "665f1c2e8b3f4a0012a1b2c3",
                    "project_id": "665f1c2e8b3f4a0012a1b2c0",
                    "url": "https://example.com/hooks/tasklane",
                    "events": ["task.created", "task.updated"],
                    "active": True,
                    "description": "",
                    "consecutive_failures": 0,
                    "disabled_reason": None,
                    "created_at": "2026-12-01T09:30:00Z",
                    "updated_at": "2026-12-01T09:30:00Z",
                }
            ]
        }
    )

    id: PydanticObjectId
    project_id: PydanticObjectId
    url: str
    events: list[WebhookEvent]
    active: bool
    description: str
    consecutive_failures: int = Field(description="Failed attempts in a row; any success resets it.")
    disabled_reason: str | None = Field(description="Why the server disabled it (null when it did not).")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class WebhookWithSecret(WebhookRead):
    """A webhook with its signing secret: answered once, at creation and at each rotation."""

    secret: str = Field(
        description="The Standard Webhooks signing secret (`whsec_` + base64 key). Shown only now: keep it."
    )


class DeliveryRead(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "665f1c2e8b3f4a0012a1b2d1",
                    "webhook_id": "665f1c2e8b3f4a0012a1b2c3",
                    "message_id": "msg_665f1c2e8b3f4a0012a1b2a9",
                    "event_type": "task.created",
                    "status": "succeeded",
                    "attempts": 1,
                    "next_attempt_at": None,
                    "response_status": 200,
                    "response_body": "ok",
                    "latency_ms": 42,
                    "error": None,
                    "redelivery_of": None,
                    "created_at": "2026-12-01T09:30:00Z",
                    "updated_at": "2026-12-01T09:30:01Z",
                }
            ]
        }
    )

    id: PydanticObjectId
    webhook_id: PydanticObjectId
    message_id: str = Field(description="The `webhook-id` header of every attempt: the same on retries and redeliveries.")
    event_type: str = Field(description="The payload's `type`: an event, or `webhook.ping`.")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: UtcDatetime | None = Field(description="When the next attempt is due (pending only).")
    response_status: int | None = Field(description="The last attempt's HTTP status (null: no answer).")
    response_body: str | None = Field(description="The start of the last answer (up to the configured size).")
    latency_ms: int | None = Field(description="How long the last attempt took.")
    error: str | None = Field(description="Why the last attempt got no answer, or why delivery stopped.")
    redelivery_of: PydanticObjectId | None = Field(description="The delivery this one sends again.")
    created_at: UtcDatetime
    updated_at: UtcDatetime
