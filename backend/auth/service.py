"""Who is calling: login, token rotation, logout, personal access tokens, bearer authentication."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from beanie import PydanticObjectId

from backend.auth.documents import PersonalAccessToken, RefreshToken
from backend.auth.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidToken,
    RefreshTokenReused,
    TokenNotFound,
    TooManyTokens,
)
from backend.auth.revocations import RevokedAccessTokens
from backend.auth.schemas import TokenCreate, TokenCreated, TokenPair
from backend.core.config import Settings
from backend.core.ratelimit import RateLimiter
from backend.core.security import (
    AccessClaims,
    AccessTokens,
    InvalidAccessToken,
    PasswordHasher,
    digest,
    new_secret,
)
from backend.core.time import as_utc, utcnow
from backend.users.documents import User
from backend.users.schemas import normalize_email
from backend.users.service import UserService

PAT_PREFIX = "tlp_"
REFRESH_PREFIX = "tlr_"
MAX_ACTIVE_TOKENS = 50


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and how they authenticated."""

    user: User
    via: Literal["access_token", "personal_access_token"]
    session_id: str | None = None  # the refresh family behind an access token
    token_id: str | None = None
    token_expires_at: datetime | None = None

    @property
    def user_id(self) -> PydanticObjectId:
        assert self.user.id is not None
        return self.user.id


class AuthService:
    def __init__(
        self,
        users: UserService,
        hasher: PasswordHasher,
        access_tokens: AccessTokens,
        revoked: RevokedAccessTokens,
        limiter: RateLimiter,
        settings: Settings,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._access = access_tokens
        self._revoked = revoked
        self._limiter = limiter
        self._settings = settings

    async def login(self, email: str, password: str, *, client_ip: str) -> TokenPair:
        await self._limiter.hit(self._settings.login_rate_limit_per_ip, "login-ip", client_ip)
        await self._limiter.hit(
            self._settings.login_rate_limit_per_email, "login-email", digest(normalize_email(email))
        )
        user = await self._users.find_by_email(email)
        # Verify even for an unknown email, against a dummy hash, so both failures take as long.
        hash_to_check = user.password_hash if user else None
        if not await asyncio.to_thread(self._hasher.verify, password, hash_to_check) or user is None:
            raise InvalidCredentials()
        if user.disabled:
            raise AccountDisabled()
        return await self._issue(user, family_id=uuid.uuid4().hex)

    async def refresh(self, refresh_token: str) -> TokenPair:
        token_hash = digest(refresh_token)
        now = utcnow()
        spent = await RefreshToken.get_motor_collection().find_one_and_update(
            {"token_hash": token_hash, "used_at": None, "revoked_at": None},
            {"$set": {"used_at": now}},
        )
        if spent is None:
            known = await RefreshToken.find_one(RefreshToken.token_hash == token_hash)
            if known is None or known.revoked_at is not None:
                raise InvalidRefreshToken()
            # Spent before: someone holds a copy. End the whole session for both holders.
            await self._revoke_families({"family_id": known.family_id})
            raise RefreshTokenReused()
        if as_utc(spent["expires_at"]) <= now:
            raise InvalidRefreshToken()
        user = await User.get(spent["user_id"])
        if user is None or user.disabled:
            await self._revoke_families({"family_id": spent["family_id"]})
            raise AccountDisabled()
        return await self._issue(user, family_id=spent["family_id"])

    async def logout(self, principal: Principal, refresh_token: str | None) -> None:
        """End the caller's current session, and the one the refresh token belongs to (if theirs)."""
        if principal.token_id and principal.token_expires_at:
            await self._revoked.revoke(principal.token_id, principal.token_expires_at)
        families: set[str] = {principal.session_id} if principal.session_id else set()
        if refresh_token:
            token = await RefreshToken.find_one(
                RefreshToken.token_hash == digest(refresh_token), RefreshToken.user_id == principal.user_id
            )
            if token is not None:
                families.add(token.family_id)
        if families:
            await self._revoke_families(
                {"user_id": principal.user_id, "family_id": {"$in": sorted(families)}}
            )

    async def end_other_sessions(self, principal: Principal) -> None:
        """After a password change: every refresh family but the caller's own is revoked."""
        condition: dict[str, object] = {"user_id": principal.user_id}
        if principal.session_id:
            condition["family_id"] = {"$ne": principal.session_id}
        await self._revoke_families(condition)

    async def authenticate(self, token: str, verified: AccessClaims | None = None) -> Principal:
        """The caller behind a bearer token; `verified` is this token's claims if already checked."""
        if token.startswith(PAT_PREFIX):
            return await self._authenticate_pat(token)
        try:
            claims = verified or self._access.read(token)
        except InvalidAccessToken as exc:
            raise InvalidToken() from exc
        if await self._revoked.is_revoked(claims.token_id):
            raise InvalidToken("This access token was revoked (logged out).")
        user = await self._active_user(claims.subject)
        return Principal(
            user=user,
            via="access_token",
            session_id=claims.session_id,
            token_id=claims.token_id,
            token_expires_at=claims.expires_at,
        )

    async def create_pat(self, user_id: PydanticObjectId, data: TokenCreate) -> TokenCreated:
        now = utcnow()
        active = await PersonalAccessToken.find(
            {
                "user_id": user_id,
                "revoked_at": None,
                "$or": [{"expires_at": None}, {"expires_at": {"$gt": now}}],
            }
        ).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise TooManyTokens(f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
        secret = new_secret(PAT_PREFIX)
        pat = PersonalAccessToken(
            user_id=user_id,
            name=data.name,
            token_hash=digest(secret),
            token_prefix=secret[: len(PAT_PREFIX) + 6],
            expires_at=data.expires_at,
        )
        await pat.insert()
        return TokenCreated(**pat.model_dump(), token=secret)

    async def list_pats(self, user_id: PydanticObjectId) -> list[PersonalAccessToken]:
        return (
            await PersonalAccessToken.find({"user_id": user_id, "revoked_at": None})
            .sort("+created_at", "+_id")
            .limit(MAX_ACTIVE_TOKENS * 2)
            .to_list()
        )

    async def revoke_pat(self, user_id: PydanticObjectId, token_id: PydanticObjectId) -> None:
        result = await PersonalAccessToken.get_motor_collection().update_one(
            {"_id": token_id, "user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}}
        )
        if result.matched_count == 0:
            raise TokenNotFound()

    async def _authenticate_pat(self, token: str) -> Principal:
        pat = await PersonalAccessToken.find_one(
            PersonalAccessToken.token_hash == digest(token),
            PersonalAccessToken.revoked_at == None,  # noqa: E711
        )
        if pat is None or (pat.expires_at is not None and as_utc(pat.expires_at) <= utcnow()):
            raise InvalidToken()
        user = await self._active_user(str(pat.user_id))
        return Principal(user=user, via="personal_access_token", token_id=str(pat.id))

    async def _active_user(self, user_id: str) -> User:
        user = await self._users.active_account(user_id)
        if user is None or user.disabled:
            raise InvalidToken()
        return user

    async def _issue(self, user: User, *, family_id: str) -> TokenPair:
        assert user.id is not None
        secret = new_secret(REFRESH_PREFIX)
        now = utcnow()
        await RefreshToken(
            token_hash=digest(secret),
            family_id=family_id,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.refresh_token_ttl_seconds),
        ).insert()
        return TokenPair(
            access_token=self._access.issue(str(user.id), session_id=family_id),
            expires_in=int(self._access.ttl.total_seconds()),
            refresh_token=secret,
        )

    async def _revoke_families(self, condition: dict[str, object]) -> None:
        await RefreshToken.get_motor_collection().update_many(
            {**condition, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}}
        )
