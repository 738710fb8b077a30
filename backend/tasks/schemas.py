from typing import Annotated, Any, Literal, Self

from annotated_types import Ge, Le
from beanie import PydanticObjectId
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from backend.core.http.errors import PROBLEM_MEDIA_TYPE, Problem, problem_response
from backend.core.time import UtcDatetime
from backend.core.types import VISIBLE, ObjectIdIn, PartialUpdate, RequestBody, Rfc3339, Schema, json_number
from backend.tasks.documents import Priority, TaskStatus
from backend.tasks.errors import AssigneeNotMember, InvalidParent, TaskNumberTaken
from backend.users.schemas import MentionRead

MAX_LABELS = 20
MAX_ASSIGNEES = 10

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=VISIBLE)
]
Description = Annotated[
    str,
    Field(
        max_length=20_000,
        description="Markdown, stored as given. `@handle` mentions a member of the project.",
    ),
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40, pattern=VISIBLE)
]


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


# The limits count the items sent (as the schema's maxItems says); duplicates are then dropped.
Labels = Annotated[
    list[Label],
    Field(max_length=MAX_LABELS),
    AfterValidator(_unique),
    Field(description=f"Up to {MAX_LABELS} labels of 1 to 40 characters; lower-cased, duplicates dropped."),
]
AssigneeIds = Annotated[
    list[ObjectIdIn],
    Field(max_length=MAX_ASSIGNEES),
    AfterValidator(_unique),
    Field(description=f"Up to {MAX_ASSIGNEES} user ids, each a member of the project."),
]
PriorityIn = Annotated[
    Priority, BeforeValidator(json_number), Field(description="0 none, 1 urgent, 2 high, 3 medium, 4 low.")
]
Position = Annotated[
    # Bounds before the validator, so that they stay JSON Schema's minimum and maximum.
    float, Ge(-1e15), Le(1e15), BeforeValidator(json_number), Field(description="Manual order; any number.")
]


class TaskCreate(PartialUpdate):
    """A new task; `null` only for `due_at` and `parent_id` (the same as leaving them out)."""

    CLEARABLE = frozenset({"due_at", "parent_id"})

    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.BACKLOG
    priority: PriorityIn = Priority.NONE
    labels: Labels = Field(default_factory=list)
    assignee_ids: AssigneeIds = Field(default_factory=list)
    due_at: Rfc3339 | None = Field(None, description="RFC 3339 with an offset.")
    parent_id: ObjectIdIn | None = None
    position: Position | None = Field(None, description="Defaults to the task's number: new tasks go last.")


class TaskUpdate(PartialUpdate):
    """Only the fields sent change; `null` clears `due_at`, `parent_id`."""

    CLEARABLE = frozenset({"due_at", "parent_id"})

    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: PriorityIn | None = None
    labels: Labels | None = None
    assignee_ids: AssigneeIds | None = None
    due_at: Rfc3339 | None = None
    parent_id: ObjectIdIn | None = None
    position: Position | None = None


class AssigneeSummary(Schema):
    id: PydanticObjectId
    display_name: str
    handle: str


class TaskRead(Schema):
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
    mentions: list[MentionRead] = Field(
        description="The project members the description's `@handles` named when it was written, in "
        "order; a handle of no member stays text."
    )
    due_at: UtcDatetime | None
    parent_id: PydanticObjectId | None
    position: float
    rank: str = Field(
        description="The board order, set by the server (`POST .../move`): sort by it (`sort=rank`), "
        "compare as plain strings (byte order), never compute or send one."
    )
    created_by: PydanticObjectId
    created_at: UtcDatetime
    updated_at: UtcDatetime
    completed_at: UtcDatetime | None
    deleted_at: UtcDatetime | None


class BulkChanges(PartialUpdate):
    SCHEMA_EXTRA = {"minProperties": 1}

    status: TaskStatus | None = None
    priority: PriorityIn | None = None
    assignee_ids: AssigneeIds | None = None
    add_labels: Labels | None = None
    remove_labels: Labels | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_dump(exclude_none=True):
            raise ValueError("set at least one field to change")
        return self


class BulkUpdate(RequestBody):
    ids: Annotated[list[ObjectIdIn], AfterValidator(_unique), Field(min_length=1, max_length=100)]
    set: BulkChanges


class BulkItemResult(Schema):
    id: PydanticObjectId
    result: Literal["updated", "not_found", "invalid"]
    detail: str | None = Field(None, description="Why the task was not updated.")


class BulkResult(Schema):
    results: list[BulkItemResult] = Field(description="One entry per requested id, in request order.")


def _a_neighbour_each(schema: dict[str, Any]) -> None:
    """In the contract, a body names `after_id`, `before_id` or both: one object type requiring
    each (a union, so generated clients need no cast), as the validator below says."""
    properties = schema["properties"]
    schema["anyOf"] = [
        {
            "title": title,
            "type": "object",
            "additionalProperties": False,
            "properties": properties,
            "required": [neighbour],
        }
        for neighbour, title in (("after_id", "TaskMoveBelow"), ("before_id", "TaskMoveAbove"))
    ]
    for keyword in ("type", "additionalProperties", "properties"):
        schema.pop(keyword, None)


class TaskMove(PartialUpdate):
    """Where a card lands on the board: between the card above it (`after_id`) and the card below
    it (`before_id`). Leave one out for the top or the bottom of a column; at least one is needed."""

    SCHEMA_EXTRA = _a_neighbour_each

    after_id: ObjectIdIn | None = Field(None, description="The task just above the new place.")
    before_id: ObjectIdIn | None = Field(None, description="The task just below the new place.")
    status: TaskStatus | None = Field(None, description="The column it lands in, if it changes.")

    @model_validator(mode="after")
    def _a_neighbour(self) -> Self:
        if self.after_id is None and self.before_id is None:
            raise ValueError("give after_id, before_id or both: the tasks the card lands between")
        return self


MAX_BATCH = 100


class TaskBatch(RequestBody):
    tasks: list[TaskCreate] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"1 to {MAX_BATCH} tasks, each as `POST .../tasks` takes one. One that does not "
        "validate makes the whole request a 422 (`field_errors` keys such as `tasks.3.title`).",
    )


class TaskBatchCreated(Schema):
    outcome: Literal["created"] = "created"
    index: int = Field(description="The item's position in the request, from 0.")
    status: Literal[201] = Field(201, description="What the item alone would have got: 201 Created.")
    task: TaskRead


# The errors an item can get instead of its task: what `POST .../tasks` answers for it alone.
BATCH_ITEM_ERRORS = (AssigneeNotMember, InvalidParent, TaskNumberTaken)


def _as_sent(problem: Problem) -> dict[str, Any]:
    # As every problem answer: members without a value are left out, not null.
    return problem.model_dump(mode="json", exclude_none=True)


ItemProblem = Annotated[
    Problem,
    PlainSerializer(_as_sent),
    # The problem schema of an answer that can carry these codes, so that `error_code` is their union.
    WithJsonSchema(problem_response(list(BATCH_ITEM_ERRORS))["content"][PROBLEM_MEDIA_TYPE]["schema"]),
]


class TaskBatchFailed(Schema):
    outcome: Literal["failed"] = "failed"
    index: int = Field(description="The item's position in the request, from 0.")
    status: int = Field(ge=400, le=499, description="What the item alone would have got (`problem.status`).")
    problem: ItemProblem = Field(
        description="The problem details the item alone would have got; nothing was created for it."
    )


class TaskBatchResult(Schema):
    results: list[Annotated[TaskBatchCreated | TaskBatchFailed, Field(discriminator="outcome")]] = Field(
        description="One per item, in request order: `created` with the task, or `failed` with the "
        "problem. Created tasks have contiguous numbers, in request order."
    )
