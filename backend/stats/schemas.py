import datetime as dt

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from backend.tasks.documents import Priority, TaskStatus


class StatusCount(BaseModel):
    status: TaskStatus
    count: int


class PriorityCount(BaseModel):
    priority: Priority
    count: int


class AssigneeCount(BaseModel):
    user_id: PydanticObjectId
    display_name: str
    count: int


class DayCount(BaseModel):
    date: dt.date = Field(description="A UTC day.")
    created: int
    completed: int


class ProjectStats(BaseModel):
    total: int = Field(description="Tasks that are not deleted.")
    by_status: list[StatusCount] = Field(description="Every status, zeros included.")
    by_priority: list[PriorityCount] = Field(description="Every priority, zeros included.")
    by_assignee: list[AssigneeCount] = Field(description="Assignees with tasks, most first.")
    unassigned: int
    overdue: int = Field(description="Open tasks (not done or canceled) due before now.")
    daily: list[DayCount] = Field(description="Created and completed per UTC day, oldest first, zero-filled.")
