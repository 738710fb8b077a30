from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from backend.activity.documents import Target
from backend.core.time import UtcDatetime


class ActorSummary(BaseModel):
    id: PydanticObjectId
    display_name: str


class ActivityRead(BaseModel):
    id: PydanticObjectId
    project_id: PydanticObjectId
    task_id: PydanticObjectId | None
    actor: ActorSummary
    verb: str = Field(description="`task.created`, `task.updated`, `member.added`, ...")
    target: Target
    changes: dict[str, list[Any]] = Field(description="Changed fields as `[old, new]`; long texts shortened.")
    created_at: UtcDatetime
