from typing import Annotated, Any, Literal, Self

from beanie import PydanticObjectId
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from backend.core.time import UtcDatetime
from backend.tasks.documents import Priority, TaskStatus

MAX_LABELS = 20
MAX_ASSIGNEES = 10

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=20_000, description="Markdown, stored as given.")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)]


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


Labels = Annotated[
    list[Label],
    AfterValidator(_unique),
    AfterValidator(lambda v: _at_most(v, MAX_LABELS, "labels")),
    Field(description=f"Up to {MAX_LABELS} labels of 1 to 40 characters; lower-cased, duplicates dropped."),
]
AssigneeIds = Annotated[
    list[PydanticObjectId],
    AfterValidator(_unique),
    AfterValidator(lambda v: _at_most(v, MAX_ASSIGNEES, "assignees")),
    Field(description=f"Up to {MAX_ASSIGNEES} user ids, each a member of the project."),
]
Position = Annotated[float, Field(ge=-1e15, le=1e15, description="Manual order; any number.")]


def _at_most(values: list[Any], limit: int, what: str) -> list[Any]:
    if len(values) > limit:
        raise ValueError(f"at most {limit} {what}")
    return values


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.BACKLOG
    priority: Priority = Field(Priority.NONE, description="0 none, 1 urgent, 2 high, 3 medium, 4 low.")
    labels: Labels = Field(default_factory=list)
    assignee_ids: AssigneeIds = Field(default_factory=list)
    due_at: AwareDatetime | None = Field(None, description="RFC 3339 with an offset.")
    parent_id: PydanticObjectId | None = None
    position: Position | None = Field(None, description="Defaults to the task's number: new tasks go last.")


class TaskUpdate(BaseModel):
    """Only the fields sent change; `null` clears `due_at`, `parent_id`."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: Priority | None = None
    labels: Labels | None = None
    assignee_ids: AssigneeIds | None = None
    due_at: AwareDatetime | None = None
    parent_id: PydanticObjectId | None = None
    position: Position | None = None

    @model_validator(mode="after")
    def _only_clearable_fields_may_be_null(self) -> Self:
        nulled = [
            f for f in self.model_fields_set if getattr(self, f) is None and f not in ("due_at", "parent_id")
        ]
        if nulled:
            raise ValueError(f"{', '.join(sorted(nulled))} cannot be null")
        return self


class AssigneeSummary(BaseModel):
    id: PydanticObjectId
    display_name: str


class TaskRead(BaseModel):
    id: PydanticObjectId
    project_id: PydanticObjectId
    number: int
    key: str = Field(description="`<PROJECT KEY>-<number>`, e.g. `WEB-42`.")
    title: str
    description: str
    status: TaskStatus
    priority: Priority
    labels: list[str]
    assignees: list[AssigneeSummary]
    due_at: UtcDatetime | None
    parent_id: PydanticObjectId | None
    position: float
    created_by: PydanticObjectId
    created_at: UtcDatetime
    updated_at: UtcDatetime
    completed_at: UtcDatetime | None
    deleted_at: UtcDatetime | None


class BulkChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TaskStatus | None = None
    priority: Priority | None = None
    assignee_ids: AssigneeIds | None = None
    add_labels: Labels | None = None
    remove_labels: Labels | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_dump(exclude_none=True):
            raise ValueError("set at least one field to change")
        return self


class BulkUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[PydanticObjectId], AfterValidator(_unique), Field(min_length=1, max_length=100)]
    set: BulkChanges


class BulkItemResult(BaseModel):
    id: PydanticObjectId
    result: Literal["updated", "not_found", "invalid"]
    detail: str | None = Field(None, description="Why the task was not updated.")


class BulkResult(BaseModel):
    results: list[BulkItemResult] = Field(description="One entry per requested id, in request order.")
