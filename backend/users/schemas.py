import unicodedata
from typing import Annotated, Self

from beanie import PydanticObjectId
from pydantic import ConfigDict, Field, StrictBool, StringConstraints, field_validator, model_validator

from backend.core.time import UtcDatetime
from backend.core.types import VISIBLE, Email, PartialUpdate, RequestBody, Schema
from backend.users.documents import GlobalRole
from backend.users.handles import HANDLE_PATTERN

DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=VISIBLE)
]
Handle = Annotated[
    str,
    Field(
        pattern=HANDLE_PATTERN,
        description="2 to 30 of `a-z 0-9 _ -`, any case; stored and shown lower-cased, unique in any case.",
        examples=["ada"],
    ),
]
Password = Annotated[str, Field(min_length=10, max_length=128, description="10 to 128 characters.")]


def normalize_email(email: str) -> str:
    """The form emails are compared in: NFKC (a full-width `ｃ` is a `c`) and case-folded, so that
    register, login and uniqueness agree on which addresses are the same."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


class UserRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: PydanticObjectId
    email: str
    display_name: str
    handle: str = Field(
        description="Unique, lower-cased; `@handle` in task descriptions and comments mentions the account."
    )
    role: GlobalRole
    disabled: bool
    created_at: UtcDatetime

    @field_validator("handle", mode="before")
    @classmethod
    def _none_before_migration(cls, value: object) -> object:
        return "" if value is None else value  # an account migration 0005 has not reached yet


class UserRegister(RequestBody):
    email: Email
    password: Password
    display_name: DisplayName
    handle: Handle | None = Field(
        None, description="Your handle; without one, one is made from the email (`ada`, `ada2`, ...)."
    )

    @model_validator(mode="after")
    def _password_is_not_the_email(self) -> Self:
        if self.password.strip().lower() == normalize_email(self.email):
            raise ValueError("password must not be the email address")
        return self


class ProfileUpdate(PartialUpdate):
    """Change your display name and/or password; a new password needs the current one."""

    SCHEMA_EXTRA = {"dependentRequired": {"password": ["current_password"]}}

    display_name: DisplayName | None = None
    handle: Handle | None = Field(
        None, description="A new handle: 409 `HANDLE_TAKEN` if another account has it."
    )
    password: Password | None = None
    current_password: Annotated[str, Field(min_length=1, max_length=128)] | None = None

    @model_validator(mode="after")
    def _password_change_needs_current(self) -> Self:
        if self.password is not None and not self.current_password:
            raise ValueError("current_password is required to change the password")
        return self


class UserAdminUpdate(PartialUpdate):
    role: GlobalRole | None = None
    disabled: StrictBool | None = None  # 1 and "true" are not booleans


class MentionRead(Schema):
    """A member `@mentioned` in a text, with their current handle and name."""

    user_id: PydanticObjectId
    handle: str
    display_name: str
