from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class ProjectRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: "ProjectRole") -> bool:
        return self.rank >= other.rank


_RANKS = {ProjectRole.VIEWER: 1, ProjectRole.MEMBER: 2, ProjectRole.ADMIN: 3, ProjectRole.OWNER: 4}


class Member(BaseModel):
    user_id: PydanticObjectId
    role: ProjectRole
    added_at: UtcDatetime = Field(default_factory=utcnow)


class Project(Document):
    """A project with its members embedded, so that every membership change is one atomic update.

    `version` goes up by one on every change to what the API shows (the ETag); updates are
    conditional on it, which makes If-Match and the last-owner rule safe under concurrency.
    """

    key: str  # upper-cased and immutable; unique without collation
    name: str
    description: str = ""
    members: list[Member]
    archived: bool = False
    archived_at: UtcDatetime | None = None
    created_by: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    version: int = 1
    # The last task number handed out; `$inc` in one find_one_and_update gives gap-free numbers.
    task_counter: int = 0

    class Settings:
        name = "projects"
        indexes = [
            IndexModel([("key", ASCENDING)], name="key_unique", unique=True),
            IndexModel(
                [("members.user_id", ASCENDING), ("archived", ASCENDING), ("_id", DESCENDING)],
                name="member_archived_newest",
            ),
            IndexModel([("archived", ASCENDING), ("_id", DESCENDING)], name="archived_newest"),
        ]

    def role_of(self, user_id: PydanticObjectId) -> ProjectRole | None:
        return next((m.role for m in self.members if m.user_id == user_id), None)

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'
