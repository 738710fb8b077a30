from typing import Annotated, Literal

from beanie import PydanticObjectId
from pydantic import AnyUrl, Field, UrlConstraints

from backend.activity.schemas import ActivityRead
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
    Field(
        min_length=1, max_length=len(WebhookEvent), description="The changes to hear about (at least one)."
    ),
]
Description = Annotated[str, Field(max_length=500, description="Up to 500 characters.")]


class WebhookCreate(RequestBody):
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
    id: PydanticObjectId
    webhook_id: PydanticObjectId
    message_id: str = Field(
        description="The `webhook-id` header of every attempt: the same on retries and redeliveries."
    )
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


class EventMessage(Schema):
    """The body of a delivery of an event: the activity record of the change, as the project's
    activity list and event stream show it."""

    type: WebhookEvent = Field(description="The event; the same as `data.verb`.")
    timestamp: UtcDatetime = Field(description="When the change happened.")
    data: ActivityRead


class PingData(Schema):
    webhook_id: PydanticObjectId
    project_id: PydanticObjectId


class PingMessage(Schema):
    """The body of a ping (`POST .../ping`)."""

    type: Literal["webhook.ping"]
    timestamp: UtcDatetime
    data: PingData
