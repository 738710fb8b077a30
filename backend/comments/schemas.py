from typing import Annotated

from beanie import PydanticObjectId
from pydantic import Field

from backend.core.time import UtcDatetime
from backend.core.types import RequestBody, Schema
from backend.users.schemas import MentionRead

Body = Annotated[
    str,
    Field(
        min_length=1,
        max_length=10_000,
        description="Markdown, 1 to 10,000 characters. `@handle` mentions a member of the project.",
    ),
]


class CommentWrite(RequestBody):
    body: Body


class AuthorSummary(Schema):
    id: PydanticObjectId
    display_name: str
    handle: str


class CommentRead(Schema):
    id: PydanticObjectId
    task_id: PydanticObjectId
    author: AuthorSummary
    body: str
    mentions: list[MentionRead] = Field(
        description="The project members the body's `@handles` named when it was written, in order; "
        "a handle of no member stays text."
    )
    created_at: UtcDatetime
    edited_at: UtcDatetime | None = Field(description="When the author last edited it; null if never.")
