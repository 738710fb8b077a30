"""Who is calling: login, sessions, token rotation, logout and personal access tokens.

A session is one sign-in: its refresh tokens (one family, rotated) and every access token issued in
it name the session's id. Ending a session is one update of its document in MongoDB; authentication
reads that document on every request (through backend/access/facts.py), so every token of the
session stops working at once, on every process.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from beanie import PydanticObjectId

from backend.access.caller import Caller
from backend.access.facts import AccessFacts
from backend.auth.documents import PAT_PREFIX, PersonalAccessToken, RefreshToken, Session
from backend.auth.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshTokenReused,
    SessionNotFound,
    TokenNotFound,
    TooManyTokens,
)
from backend.auth.repository import AuthRepository
from backend.auth.schemas import SessionRead, TokenCreate, TokenCreated, TokenPair
from backend.core.config import Settings
from backend.core.pagination import CursorCodec, Page
from backend.core.ratelimit.limiter import RateLimiter
from backend.core.security import AccessTokens, PasswordHasher, digest, new_secret
from backend.core.time import as_utc, utcnow
from backend.users.schemas import normalize_email
from backend.users.service import UserService

__all__ = ["PAT_PREFIX", "AuthService"]

REFRESH_PREFIX = "tlr_"
MAX_ACTIVE_TOKENS = 50
MAX_USER_AGENT = 256
SESSIONS_CURSOR_SCOPE = "sessions"


class AuthService:
    def __init__(
        self,
        users: UserService,
        hasher: PasswordHasher,
        access_tokens: AccessTokens,
        facts: AccessFacts,
        limiter: RateLimiter,
        cursors: CursorCodec,
        settings: Settings,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._access = access_tokens
        self._facts = facts
        self._limiter = limiter
        self._cursors = cursors
        self._settings = settings
        self._store = AuthRepository()

    async def login(self, email: str, password: str, *, client_ip: str, user_agent: str) -> TokenPair:
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
        assert user.id is not None
        session = Session(
            user_id=user.id, expires_at=self._refresh_expiry(), user_agent=user_agent[:MAX_USER_AGENT]
        )
        await self._store.insert_session(session)
        assert session.id is not None
        return await self._issue(user.id, session.id)

    async def refresh(self, refresh_token: str) -> TokenPair:
        token_hash = digest(refresh_token)
        now = utcnow()
        spent = await self._store.spend_refresh_token(token_hash, now)
        if spent is None:
            known = await self._store.refresh_token(token_hash)
            if known is None:
                raise InvalidRefreshToken()
            if known.revoked_at is not None:
                # Say why, to the one who holds the token: disabling an account ends its sessions.
                owner = await self._users.find(known.user_id)
                raise AccountDisabled() if owner is None or owner.disabled else InvalidRefreshToken()
            # Spent before: someone holds a copy. End the whole session for both holders.
            await self.end_sessions(known.user_id, only=[known.family_id], reason="refresh_token_reused")
            raise RefreshTokenReused()
        if as_utc(spent["expires_at"]) <= now:
            raise InvalidRefreshToken()
        user_id: PydanticObjectId = spent["user_id"]
        session_id = await self._continue_session(spent["family_id"], user_id)
        user = await self._users.find(user_id)
        if user is None or user.disabled:
            await self.end_sessions(user_id, only=[str(session_id)], reason="account_disabled")
            raise AccountDisabled()
        return await self._issue(user_id, session_id)

    async def _continue_session(self, family_id: str, user_id: PydanticObjectId) -> PydanticObjectId:
        """The session a refresh continues, marked used; InvalidRefreshToken when it has ended."""
        if PydanticObjectId.is_valid(family_id):
            found = await self._store.continue_session(
                PydanticObjectId(family_id), user_id, now=utcnow(), expires_at=self._refresh_expiry()
            )
            if found is None:
                raise InvalidRefreshToken()
            return found
        # A family from before sessions existed: it becomes a session now, and its tokens move into
        # it, so that a reuse of one of them still ends it.
        session = Session(user_id=user_id, expires_at=self._refresh_expiry())
        await self._store.insert_session(session)
        assert session.id is not None
        await self._store.move_family(family_id, session.id)
        return session.id

    async def logout(self, caller: Caller, refresh_token: str | None) -> None:
        """End the caller's session, and the one the refresh token belongs to (if it is theirs)."""
        sessions = [caller.session_id] if caller.session_id else []
        if refresh_token:
            token = await self._store.refresh_token(digest(refresh_token), caller.user_id)
            if token is not None:
                sessions.append(token.family_id)
        if sessions:
            await self.end_sessions(caller.user_id, only=sessions, reason="logout")

    async def sessions(self, caller: Caller, *, cursor: str | None, limit: int) -> Page[SessionRead]:
        """The caller's sessions that have not ended, newest first."""
        items, next_cursor = await self._store.live_sessions_page(
            caller.user_id,
            utcnow(),
            codec=self._cursors,
            scope=SESSIONS_CURSOR_SCOPE,
            cursor=cursor,
            limit=limit,
        )
        return Page[SessionRead](
            items=[SessionRead.of(s, current=str(s.id) == caller.session_id) for s in items],
            next_cursor=next_cursor,
        )

    async def end_session(self, caller: Caller, session_id: PydanticObjectId) -> None:
        """End one of the caller's sessions (204 also when it had ended already)."""
        found = await self._store.session(session_id)
        if found is None or found.user_id != caller.user_id:
            raise SessionNotFound()
        await self.end_sessions(caller.user_id, only=[str(session_id)], reason="revoked")

    async def end_sessions(
        self,
        user_id: PydanticObjectId,
        *,
        only: Sequence[str] | None = None,
        keep: str | None = None,
        reason: str,
    ) -> None:
        """End the user's sessions (`only` these, or all but `keep`): every token of them stops working.

        The sessions are ended first: that alone refuses their access and refresh tokens; revoking
        the refresh tokens after is bookkeeping.
        """
        now = utcnow()
        try:
            await self._store.end_sessions(user_id, only=only, keep=keep, reason=reason, now=now)
        finally:
            self._facts.forget_sessions()
        await self._store.revoke_refresh_tokens(user_id, only=only, keep=keep, now=now)

    async def create_pat(self, user_id: PydanticObjectId, data: TokenCreate) -> TokenCreated:
        now = utcnow()
        if await self._store.active_token_count(user_id, now) >= MAX_ACTIVE_TOKENS:
            raise TooManyTokens(f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
        secret = new_secret(PAT_PREFIX)
        pat = PersonalAccessToken(
            user_id=user_id,
            name=data.name,
            token_hash=digest(secret),
            token_prefix=secret[: len(PAT_PREFIX) + 6],
            expires_at=data.expires_at,
        )
        await self._store.insert_token(pat)
        return TokenCreated(**pat.model_dump(), token=secret)

    async def list_pats(self, user_id: PydanticObjectId) -> list[PersonalAccessToken]:
        return await self._store.unrevoked_tokens(user_id, MAX_ACTIVE_TOKENS * 2)

    async def revoke_pat(self, user_id: PydanticObjectId, token_id: PydanticObjectId) -> None:
        try:
            revoked = await self._store.revoke_token(user_id, token_id, utcnow())
        finally:
            self._facts.forget_token(str(token_id))
        if not revoked:
            raise TokenNotFound()

    def _refresh_expiry(self) -> datetime:
        return utcnow() + timedelta(seconds=self._settings.refresh_token_ttl_seconds)

    async def _issue(self, user_id: PydanticObjectId, session_id: PydanticObjectId) -> TokenPair:
        secret = new_secret(REFRESH_PREFIX)
        now = utcnow()
        await self._store.insert_refresh_token(
            RefreshToken(
                token_hash=digest(secret),
                family_id=str(session_id),
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(seconds=self._settings.refresh_token_ttl_seconds),
            )
        )
        return TokenPair(
            access_token=self._access.issue(str(user_id), session_id=str(session_id)),
            expires_in=int(self._access.ttl.total_seconds()),
            refresh_token=secret,
        )
