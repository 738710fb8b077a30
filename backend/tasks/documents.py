from enum import IntEnum, StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class TaskStatus(StrEnum):
    BACKLOG = "backlog"
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    DONE = "done"
    CANCELED = "canceled"


# Finished with: no reminder of their due date.
CLOSED_STATUSES = frozenset({TaskStatus.DONE, TaskStatus.CANCELED})


class Priority(IntEnum):
    NONE = 0
    URGENT = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


# Sortable fields of the list; every one has an index led by project_id and ending in _id.
SORT_FIELDS = ("created_at", "updated_at", "due_at", "priority", "position", "number", "rank")


def _sort_index(field: str) -> IndexModel:
    return IndexModel(
        [("project_id", ASCENDING), (field, ASCENDING), ("_id", ASCENDING)], name=f"project_{field}"
    )


class Task(Document):
    project_id: PydanticObjectId
    number: int
    key: str
    title: str
    description: str = ""
    status: TaskStatus = TaskStatus.BACKLOG
    priority: Priority = Priority.NONE
    labels: list[str] = Field(default_factory=list)
    assignee_ids: list[PydanticObjectId] = Field(default_factory=list)
    due_at: UtcDatetime | None = None
    parent_id: PydanticObjectId | None = None
    position: float
    # The board order (tasks/ranks.py), unique in the project; None only on a task stored before
    # migration 0003 gave every task one.
    rank: str | None = None
    created_by: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    completed_at: UtcDatetime | None = None
    deleted_at: UtcDatetime | None = None
    # Normalised words and prefixes of title, description and labels: portable search without $text.
    search_terms: list[str] = Field(default_factory=list)
    # The members the description's `@handles` named when written (users/mentions.py), in order.
    mentioned_ids: list[PydanticObjectId] = Field(default_factory=list)
    # Goes up by one on every change; the ETag, and the condition of every update.
    version: int = 1

    class Settings:
        name = "tasks"
        indexes = [
            IndexModel(
                [("project_id", ASCENDING), ("number", ASCENDING)], name="project_number_unique", unique=True
            ),
            *(_sort_index(field) for field in SORT_FIELDS),
            # No two cards of a project share a rank, whatever moves race (tasks/ordering.py).
            # Partial: tasks without one (stored before migration 0003) do not collide as nulls.
            IndexModel(
                [("project_id", ASCENDING), ("rank", ASCENDING)],
                name="project_rank_unique",
                unique=True,
                partialFilterExpression={"rank": {"$type": "string"}},
            ),
            IndexModel([("project_id", ASCENDING), ("search_terms", ASCENDING)], name="project_search_terms"),
            IndexModel(
                [("project_id", ASCENDING), ("assignee_ids", ASCENDING), ("_id", DESCENDING)],
                name="project_assignee",
            ),
            IndexModel([("project_id", ASCENDING), ("labels", ASCENDING)], name="project_labels"),
            IndexModel(
                [("project_id", ASCENDING), ("parent_id", ASCENDING), ("position", ASCENDING)],
                name="project_parent_position",
            ),
            IndexModel(
                [("project_id", ASCENDING), ("status", ASCENDING), ("updated_at", DESCENDING)],
                name="project_status_updated",
            ),
            # Across projects: the live tasks due within the reminder window, in due order
            # (notifications/reminders.py), and the tasks deleted before the retention cutoff
            # (retention/service.py).
            IndexModel(
                [("deleted_at", ASCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)], name="deleted_due"
            ),
        ]

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'
