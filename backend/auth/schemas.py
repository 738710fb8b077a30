from datetime import datetime
from typing import Annotated, Literal

from beanie import PydanticObjectId
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from backend.auth.documents import Session
from backend.core.time import UtcDatetime, as_utc, utcnow
from backend.core.types import VISIBLE, RequestBody, Schema

RefreshTokenValue = Annotated[str, Field(min_length=1, max_length=256)]


class TokenPair(Schema):
    access_token: str = Field(description="A JWT to send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Opaque; spend it once at /auth/refresh for a new pair.")


class RefreshRequest(RequestBody):
    refresh_token: RefreshTokenValue


class TokenCreate(RequestBody):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=VISIBLE)
    ]
    expires_at: UtcDatetime | None = Field(
        None, description="Optional expiry, in the future; none means never."
    )

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and as_utc(value) <= utcnow():
            raise ValueError("expires_at must be in the future")
        return value


class TokenRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: PydanticObjectId
    name: str
    token_prefix: str = Field(description="The first characters of the token, to recognise it.")
    created_at: UtcDatetime
    expires_at: UtcDatetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret, shown only in this response. Send it as a bearer token.")


class SessionRead(Schema):
    """One sign-in and where it came from; its access and refresh tokens are never shown."""

    id: PydanticObjectId
    created_at: UtcDatetime = Field(description="When you logged in.")
    last_used_at: UtcDatetime = Field(
        description="The last login or token refresh of the session (clients refresh while in use)."
    )
    expires_at: UtcDatetime = Field(description="When it ends unless refreshed again.")
    user_agent: str = Field(description="The User-Agent of the login, at most 256 characters.")
    current: bool = Field(description="Whether this is the session of the token that asked.")

    @classmethod
    def of(cls, session: Session, *, current: bool) -> "SessionRead":
        assert session.id is not None
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            expires_at=session.expires_at,
            user_agent=session.user_agent,
            current=current,
        )
