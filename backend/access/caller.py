"""The caller of a request: resolved once by `CallerMiddleware`, read by everything after it."""

from dataclasses import dataclass
from enum import StrEnum

from beanie import PydanticObjectId

from backend.users.documents import User


class Via(StrEnum):
    """How the caller authenticated."""

    ACCESS_TOKEN = "access_token"
    PERSONAL_ACCESS_TOKEN = "personal_access_token"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: their account (never with its password hash) and how they got in."""

    account: User
    # Read once from the account: a Beanie document's field costs more per read than a plain one.
    user_id: PydanticObjectId
    is_global_admin: bool
    via: Via
    token_id: str  # the access token's (or stream ticket's) `jti`, or the personal access token's id
    session_id: str | None = None  # the session every access token of one sign-in names

    @property
    def rate_limit_key(self) -> str:
        """Whose requests count together: a user's access tokens share one bucket, each PAT has one."""
        if self.via is Via.PERSONAL_ACCESS_TOKEN:
            return f"pat:{self.token_id}"
        return f"user:{self.user_id}"
