from beanie import PydanticObjectId
from pydantic import Field

from backend.core.time import UtcDatetime
from backend.core.types import ObjectIdIn, RequestBody, Schema
from backend.relations.documents import RelationType, RelationView
from backend.tasks.documents import TaskStatus


class RelationCreate(RequestBody):
    type: RelationType = Field(
        description="What this task is to the other: it `blocks` it, `relates_to` it or `duplicates` it."
    )
    task_id: ObjectIdIn = Field(
        description="The other task: in this project, or in another project you can see (any role)."
    )


class RelatedTask(Schema):
    """The task at the other end of a relation."""

    id: PydanticObjectId
    project_id: PydanticObjectId
    key: str
    title: str
    status: TaskStatus


class RelationRead(Schema):
    id: PydanticObjectId
    type: RelationView = Field(
        description="As seen from the task in the path: `blocks` / `blocked_by`, `duplicates` / "
        "`duplicated_by`, or `relates_to` (the same from both ends)."
    )
    task: RelatedTask
    created_at: UtcDatetime
