"""The caller of a request: resolved once by `CallerMiddleware`, read by everything after it."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId

from backend.users.documents import GlobalRole, User


class Via(StrEnum):
    """How the caller authenticated."""

    ACCESS_TOKEN = "access_token"
    PERSONAL_ACCESS_TOKEN = "personal_access_token"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: their account (never with its password hash) and how they got in."""

    account: User
    via: Via
    token_id: str  # the access token's `jti`, or the personal access token's id
    session_id: str | None = None  # the session every access token of one sign-in names
    token_expires_at: datetime | None = None

    @property
    def user_id(self) -> PydanticObjectId:
        assert self.account.id is not None
        return self.account.id

    @property
    def is_global_admin(self) -> bool:
        return self.account.role is GlobalRole.ADMIN

    @property
    def rate_limit_key(self) -> str:
        """Whose requests count together: a user's access tokens share one bucket, each PAT has one."""
        if self.via is Via.PERSONAL_ACCESS_TOKEN:
            return f"pat:{self.token_id}"
        return f"user:{self.user_id}"
