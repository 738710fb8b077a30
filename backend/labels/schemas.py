from typing import Annotated

from beanie import PydanticObjectId
from pydantic import Field, StringConstraints

from backend.core.time import UtcDatetime
from backend.core.types import VISIBLE, PartialUpdate, RequestBody, Schema

# As long as a task's label may be (tasks/schemas.py `Label`), so that every name can go on a task.
MAX_NAME = 40

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME, pattern=VISIBLE),
    Field(
        description=f"1 to {MAX_NAME} characters, unique in the project ignoring case; tasks carry it "
        "lower-cased (`task_label`)."
    ),
]
Color = Annotated[
    str,
    StringConstraints(to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$"),
    Field(description="`#rrggbb`; answered lower-cased."),
]
Description = Annotated[str, Field(max_length=500, description="Up to 500 characters.")]


class LabelCreate(RequestBody):
    name: Name
    color: Color
    description: Description = ""


class LabelUpdate(PartialUpdate):
    """Only the fields sent change. A new name is put on every task of the project that carries the
    label, at once."""

    name: Name | None = None
    color: Color | None = None
    description: Description | None = None


class LabelRead(Schema):
    id: PydanticObjectId
    project_id: PydanticObjectId
    name: str
    task_label: str = Field(
        description="The label as tasks carry it in `labels` and as the task list's `label=` filter "
        "takes it: the name lower-cased."
    )
    color: str = Field(description="`#rrggbb`, lower-case.")
    description: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
