from typing import Annotated, Any, Self

from beanie import PydanticObjectId
from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    model_validator,
)

from backend.core.time import UtcDatetime
from backend.core.types import VISIBLE, Email, ObjectIdIn, PartialUpdate, RequestBody, Schema
from backend.projects.documents import ProjectRole

ProjectKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{1,9}$"),
    AfterValidator(str.upper),
    Field(description="2 to 10 characters A-Z and 0-9, starting with a letter; upper-cased; immutable."),
]
ProjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=VISIBLE)
]
Description = Annotated[
    str, Field(max_length=5000, description="Plain text or markdown, up to 5,000 characters.")
]


class ProjectCreate(RequestBody):
    name: ProjectName
    key: ProjectKey
    description: Description = ""


class ProjectUpdate(PartialUpdate):
    """Fields to change; the key cannot change."""

    name: ProjectName | None = None
    description: Description | None = None


class ProjectRead(Schema):
    id: PydanticObjectId
    key: str
    name: str
    description: str
    archived: bool
    archived_at: UtcDatetime | None
    created_by: PydanticObjectId
    created_at: UtcDatetime
    updated_at: UtcDatetime
    member_count: int
    my_role: ProjectRole | None = Field(description="Your role; null for a global admin who is not a member.")


def _one_reference_each(schema: dict[str, Any]) -> None:
    """MemberAdd published as two whole variants: generators type a `oneOf` of bare `required`
    lists as `unknown`, and would accept a body with neither reference."""
    properties = schema.pop("properties")
    shared = {name: prop for name, prop in properties.items() if name not in ("user_id", "email")}
    schema["oneOf"] = [
        {
            "title": title,
            "type": "object",
            "additionalProperties": False,
            "properties": {reference: properties[reference], **shared},
            "required": [reference],
        }
        for reference, title in (("user_id", "MemberAddById"), ("email", "MemberAddByEmail"))
    ]
    for keyword in ("type", "additionalProperties"):
        schema.pop(keyword, None)


class MemberAdd(PartialUpdate):
    """Exactly one of `user_id` and `email` names the user to add."""

    SCHEMA_EXTRA = _one_reference_each

    user_id: ObjectIdIn | None = None
    email: Email | None = None
    role: ProjectRole = ProjectRole.MEMBER

    @model_validator(mode="after")
    def _exactly_one_reference(self) -> Self:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id and email")
        return self


class MemberUpdate(RequestBody):
    role: ProjectRole


class MemberRead(Schema):
    user_id: PydanticObjectId
    display_name: str
    handle: str
    role: ProjectRole
    added_at: UtcDatetime
