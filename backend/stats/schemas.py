import datetime as dt

from beanie import PydanticObjectId
from pydantic import Field

from backend.core.types import Schema
from backend.tasks.documents import Priority, TaskStatus


class StatusCount(Schema):
    status: TaskStatus
    count: int


class PriorityCount(Schema):
    priority: Priority
    count: int


class AssigneeCount(Schema):
    user_id: PydanticObjectId
    display_name: str
    handle: str
    count: int


class DayCount(Schema):
    date: dt.date = Field(description="A UTC day.")
    created: int
    completed: int


class ProjectStats(Schema):
    total: int = Field(description="Tasks that are not deleted.")
    by_status: list[StatusCount] = Field(description="Every status, zeros included.")
    by_priority: list[PriorityCount] = Field(description="Every priority, zeros included.")
    by_assignee: list[AssigneeCount] = Field(description="Assignees with tasks, most first.")
    unassigned: int
    overdue: int = Field(description="Open tasks (not done or canceled) due before now.")
    daily: list[DayCount] = Field(description="Created and completed per UTC day, oldest first, zero-filled.")
