import re
from typing import Annotated, Self

from beanie import PydanticObjectId
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from backend.core.time import UtcDatetime
from backend.projects.documents import ProjectRole

_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")


def _valid_key(value: str) -> str:
    key = value.upper()
    if not _KEY.fullmatch(key):
        raise ValueError("2 to 10 characters A-Z and 0-9, starting with a letter")
    return key


ProjectKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=10),
    AfterValidator(_valid_key),
    Field(description="2 to 10 characters A-Z and 0-9, starting with a letter; upper-cased; immutable."),
]
ProjectName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[
    str, Field(max_length=5000, description="Plain text or markdown, up to 5,000 characters.")
]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ProjectName
    key: ProjectKey
    description: Description = ""


class ProjectUpdate(BaseModel):
    """Fields to change; the key cannot change."""

    model_config = ConfigDict(extra="forbid")

    name: ProjectName | None = None
    description: Description | None = None


class ProjectRead(BaseModel):
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


class MemberAdd(BaseModel):
    """Exactly one of `user_id` and `email` names the user to add."""

    model_config = ConfigDict(extra="forbid")

    user_id: PydanticObjectId | None = None
    email: Annotated[EmailStr, Field(max_length=254)] | None = None
    role: ProjectRole = ProjectRole.MEMBER

    @model_validator(mode="after")
    def _exactly_one_reference(self) -> Self:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id and email")
        return self


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ProjectRole


class MemberRead(BaseModel):
    user_id: PydanticObjectId
    display_name: str
    role: ProjectRole
    added_at: UtcDatetime
