from enum import StrEnum
from typing import Annotated, Self

from beanie import PydanticObjectId
from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from backend.core.time import UtcDatetime
from backend.core.types import ObjectIdIn, PartialUpdate, Rfc3339, Schema
from backend.notifications.documents import NotificationKind


class PersonSummary(Schema):
    id: PydanticObjectId
    display_name: str
    handle: str


class WatcherRead(Schema):
    user: PersonSummary
    created_at: UtcDatetime = Field(description="Since when they watch the task.")


class WatchRead(Schema):
    """Your watch of a task."""

    task_id: PydanticObjectId
    watching: bool


class NotificationRead(Schema):
    id: PydanticObjectId
    kind: NotificationKind = Field(
        description="`assigned` (you were assigned the task), `mentioned` (you were mentioned), "
        "`commented` (a comment on a task you watch), `status_changed` (on a task you watch), "
        "`due_soon` (a task assigned to you is due within the reminder lead time; no actor), "
        "`webhook_disabled` (to admins and owners: the server disabled one of the project's "
        "webhooks after a run of failed deliveries; no task, no actor)."
    )
    project_id: PydanticObjectId
    task_id: PydanticObjectId | None = Field(
        description="The task it is about; null for `webhook_disabled` (about the project)."
    )
    task_key: str | None = Field(description="The task's key (`WEB-42`) when the change was made.")
    webhook_id: PydanticObjectId | None = Field(
        None, description="For `webhook_disabled`: the webhook; null for the other kinds."
    )
    comment_id: PydanticObjectId | None = Field(
        description="The comment, for `commented` and a mention in one."
    )
    activity_id: PydanticObjectId | None = Field(
        description="The activity record of the change; null for `due_soon` (no change made it)."
    )
    actor: PersonSummary | None = Field(
        description="Who made the change; null for `due_soon` and `webhook_disabled`."
    )
    due_at: UtcDatetime | None = Field(
        None, description="For `due_soon`: the due date it reminds of; null for the other kinds."
    )
    created_at: UtcDatetime
    read_at: UtcDatetime | None = Field(description="When you marked it read; null while unread.")


class UnreadCount(Schema):
    unread: int = Field(description="Your unread notifications, in the projects you can see now.")


class NotificationsMark(PartialUpdate):
    """Which of your notifications to mark read: `ids`, or everything created up to `up_to`, or both."""

    SCHEMA_EXTRA = {"minProperties": 1}

    ids: Annotated[list[ObjectIdIn], Field(min_length=1, max_length=100)] | None = None
    up_to: Rfc3339 | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.ids and self.up_to is None:
            raise ValueError("give ids or up_to")
        return self


class UserEventKind(StrEnum):
    NOTIFICATION = "notification"
    UNREAD_COUNT = "unread_count"


class UserEventData(Schema):
    notification: NotificationRead | None = Field(
        description="The new notification (`notification` events); null on `unread_count` events."
    )
    unread: int = Field(description="Your unread count after this event.")


class UserEvent(Schema):
    """One event of your stream, with `data` parsed (the contract's `x-item-schema`)."""

    # Optional: `unread_count` events carry no id on the wire (the EventSource keeps the last one).
    id: str | SkipJsonSchema[None] = Field(
        None,
        description="On `notification` events, the notification's id (what `Last-Event-ID` names); "
        "absent on `unread_count` events, so the EventSource keeps the last one.",
        exclude_if=lambda event_id: event_id is None,
    )
    event: UserEventKind
    data: UserEventData
