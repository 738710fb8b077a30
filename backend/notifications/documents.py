from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class NotificationKind(StrEnum):
    """Why someone was notified, the strongest reason first (one change, one notification each)."""

    ASSIGNED = "assigned"
    MENTIONED = "mentioned"
    COMMENTED = "commented"
    STATUS_CHANGED = "status_changed"
    # Given by the scheduled reminder job (notifications/reminders.py), never by a change.
    DUE_SOON = "due_soon"
    # To the project's admins and owners, when the server disables a webhook after a run of failures.
    WEBHOOK_DISABLED = "webhook_disabled"


class TaskWatcher(Document):
    """Someone who hears of a task's comments and status changes. Stored apart from the task, so that
    watching changes neither the task's ETag nor its cached answers."""

    project_id: PydanticObjectId
    task_id: PydanticObjectId
    user_id: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)

    class Settings:
        name = "task_watchers"
        indexes = [
            # One watch per person and task (auto-watching twice is skipped), and the watchers of
            # the tasks of a change in one query.
            IndexModel([("task_id", ASCENDING), ("user_id", ASCENDING)], name="task_user", unique=True),
            IndexModel(
                [
                    ("project_id", ASCENDING),
                    ("task_id", ASCENDING),
                    ("created_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="project_task_oldest",
            ),
        ]


class Notification(Document):
    """One person told of one change. Who may still read it is decided when it is read."""

    user_id: PydanticObjectId
    project_id: PydanticObjectId
    task_id: PydanticObjectId | None  # None for a notification about the project (a webhook)
    task_key: str | None = None
    webhook_id: PydanticObjectId | None = None  # the webhook a `webhook_disabled` is about
    kind: NotificationKind
    actor_id: PydanticObjectId | None  # None for a reminder or the server's own act: nobody did it
    activity_id: PydanticObjectId | None  # the activity record of the change; None for a reminder
    comment_id: PydanticObjectId | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    read_at: UtcDatetime | None = None
    due_at: UtcDatetime | None = None  # the due date a reminder is about

    class Settings:
        name = "notifications"
        indexes = [
            # A task's notifications, for its purge (retention/service.py).
            IndexModel([("task_id", ASCENDING)], name="task"),
            IndexModel(
                [("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="user_newest",
            ),
            # Unread ones: the `unread=true` list, the unread count, and marking read up to a time.
            IndexModel(
                [
                    ("user_id", ASCENDING),
                    ("read_at", ASCENDING),
                    ("created_at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name="user_unread_newest",
            ),
        ]


class DueReminder(Document):
    """A due-soon reminder given: its id is the key (task, due date, person), so a second copy is
    refused by the database whichever worker writes it, and only the run whose write landed tells
    the person (notifications/reminders.py)."""

    id: str  # type: ignore[assignment]  # the key, not an ObjectId
    task_id: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)

    class Settings:
        name = "due_reminders"
        indexes = [
            # The reminders already given for a batch of tasks, and a task's purge.
            IndexModel([("task_id", ASCENDING)], name="task"),
        ]
