from typing import Annotated, TypeVar

from beanie import PydanticObjectId
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from backend.activity.documents import Target
from backend.activity.verbs import ActivityVerb
from backend.core.time import UtcDatetime
from backend.core.types import Schema
from backend.projects.documents import ProjectRole
from backend.relations.documents import RelationView
from backend.tasks.documents import Priority, TaskStatus

T = TypeVar("T")


def _absent(change: object) -> bool:
    return change is None


# One changed field as `[old, new]`, each null when the field was unset; absent when unchanged.
Change = Annotated[tuple[T | None, T | None] | SkipJsonSchema[None], Field(None, exclude_if=_absent)]
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class RelationChange(Schema):
    """A relation of the record's task, as seen from that task, and the task at its other end."""

    type: RelationView
    task_id: str
    task_key: str | None = Field(
        description="The other task's key when it is in the same project; null when it is in another "
        "(whose tasks this project's members may not see)."
    )


class ActivityChanges(Schema):
    """The fields a change touched, each as `[old, new]`; texts longer than 200 characters are
    shortened (ending in `…`), ids and times are strings."""

    title: Change[str]
    description: Change[str]
    status: Change[TaskStatus]
    priority: Change[Priority]
    labels: Change[list[str]]
    assignee_ids: Change[list[str]]
    due_at: Change[Time]
    parent_id: Change[str]
    position: Change[float]
    rank: Change[str]
    deleted_at: Change[Time]
    name: Change[str]
    key: Change[str]
    archived: Change[bool]
    role: Change[ProjectRole]
    body: Change[str]
    relation: Change[RelationChange]
    color: Change[str]
    filename: Change[str]
    content_type: Change[str]
    size: Change[int]


class ActorSummary(Schema):
    id: PydanticObjectId
    display_name: str
    handle: str


class ActivityRead(Schema):
    id: PydanticObjectId
    project_id: PydanticObjectId
    task_id: PydanticObjectId | None
    actor: ActorSummary
    verb: ActivityVerb
    target: Target
    changes: ActivityChanges
    created_at: UtcDatetime


class ProjectEvent(Schema):
    """One event of a project's stream, with `data` parsed (the contract's `x-item-schema`)."""

    id: PydanticObjectId = Field(description="The activity id: what `Last-Event-ID` names.")
    event: ActivityVerb
    data: ActivityRead


class StreamTicket(Schema):
    ticket: str = Field(description="Send as the `ticket` query parameter of `url`; never log it.")
    url: str = Field(description="The stream's absolute URL with the ticket: `new EventSource(url)`.")
    expires_at: UtcDatetime = Field(
        description="Until then the ticket opens the stream, and the EventSource may reconnect with it; "
        "afterwards get a new ticket and pass the last event's id as `last_event_id`."
    )
