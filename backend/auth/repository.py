"""Every query of sessions, refresh tokens and personal access tokens."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from backend.auth.documents import PersonalAccessToken, RefreshToken, Session
from backend.core.pagination import CursorCodec
from backend.core.storage.db import by_id, collection
from backend.core.storage.pages import time_ordered_page


class AuthRepository:
    # -- sessions --

    async def insert_session(self, session: Session) -> None:
        await session.insert()

    async def session(self, session_id: PydanticObjectId) -> Session | None:
        return await by_id(Session, session_id)  # by _id alone: the fastest shape; callers check the rest

    async def continue_session(
        self, session_id: PydanticObjectId, user_id: PydanticObjectId, *, now: datetime, expires_at: datetime
    ) -> PydanticObjectId | None:
        """Mark the user's live session used; None when it has ended (or is not theirs)."""
        found = await collection(Session).find_one_and_update(
            {"_id": session_id, "user_id": user_id, "ended_at": None},
            {"$set": {"last_used_at": now, "expires_at": expires_at}},
            projection={"_id": 1},
            return_document=ReturnDocument.AFTER,
        )
        return None if found is None else PydanticObjectId(found["_id"])

    async def live_sessions_page(
        self,
        user_id: PydanticObjectId,
        now: datetime,
        *,
        codec: CursorCodec,
        scope: str,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Session], str | None]:
        conditions = {"user_id": user_id, "ended_at": None, "expires_at": {"$gt": now}}
        return await time_ordered_page(
            Session, conditions, codec=codec, scope=scope, cursor=cursor, limit=limit, newest_first=True
        )

    async def end_sessions(
        self,
        user_id: PydanticObjectId,
        *,
        only: Sequence[str] | None,
        keep: str | None,
        reason: str,
        now: datetime,
    ) -> None:
        """End the user's live sessions: `only` these ids, or all but `keep`."""
        sessions: dict[str, Any] = {"user_id": user_id, "ended_at": None}
        if only is not None:
            sessions["_id"] = {"$in": [PydanticObjectId(s) for s in only if PydanticObjectId.is_valid(s)]}
        if keep is not None:
            sessions["_id"] = {"$ne": PydanticObjectId(keep)}
        await collection(Session).update_many(sessions, {"$set": {"ended_at": now, "end_reason": reason}})

    # -- refresh tokens (a session's family) --

    async def insert_refresh_token(self, token: RefreshToken) -> None:
        await token.insert()

    async def spend_refresh_token(self, token_hash: str, now: datetime) -> dict[str, Any] | None:
        """Mark a live, unused token used, in one step (two refreshes with one token: one wins)."""
        spent: dict[str, Any] | None = await collection(RefreshToken).find_one_and_update(
            {"token_hash": token_hash, "used_at": None, "revoked_at": None}, {"$set": {"used_at": now}}
        )
        return spent

    async def refresh_token(
        self, token_hash: str, user_id: PydanticObjectId | None = None
    ) -> RefreshToken | None:
        if user_id is None:
            return await RefreshToken.find_one(RefreshToken.token_hash == token_hash)
        return await RefreshToken.find_one(
            RefreshToken.token_hash == token_hash, RefreshToken.user_id == user_id
        )

    async def move_family(self, family_id: str, session_id: PydanticObjectId) -> None:
        await collection(RefreshToken).update_many(
            {"family_id": family_id}, {"$set": {"family_id": str(session_id)}}
        )

    async def revoke_refresh_tokens(
        self, user_id: PydanticObjectId, *, only: Sequence[str] | None, keep: str | None, now: datetime
    ) -> None:
        """Revoke the refresh tokens of the user's sessions: `only` these, or all but `keep`."""
        tokens: dict[str, Any] = {"user_id": user_id, "revoked_at": None}
        if only is not None:
            tokens["family_id"] = {"$in": list(only)}
        if keep is not None:
            tokens["family_id"] = {"$ne": keep}
        await collection(RefreshToken).update_many(tokens, {"$set": {"revoked_at": now}})

    # -- personal access tokens --

    async def active_token_count(self, user_id: PydanticObjectId, now: datetime) -> int:
        active = {
            "user_id": user_id,
            "revoked_at": None,
            "$or": [{"expires_at": None}, {"expires_at": {"$gt": now}}],
        }
        return await PersonalAccessToken.find(active).count()

    async def insert_token(self, token: PersonalAccessToken) -> None:
        await token.insert()

    async def unrevoked_tokens(self, user_id: PydanticObjectId, limit: int) -> list[PersonalAccessToken]:
        return (
            await PersonalAccessToken.find({"user_id": user_id, "revoked_at": None})
            .sort("+created_at", "+_id")
            .limit(limit)
            .to_list()
        )

    async def revoke_token(
        self, user_id: PydanticObjectId, token_id: PydanticObjectId, now: datetime
    ) -> bool:
        """Revoke one of the user's tokens; False when they have no such unrevoked token."""
        result = await collection(PersonalAccessToken).update_one(
            {"_id": token_id, "user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": now}}
        )
        return bool(result.matched_count)

    async def token_by_hash(self, secret_hash: str) -> PersonalAccessToken | None:
        return await PersonalAccessToken.find_one(PersonalAccessToken.token_hash == secret_hash)

    async def token(self, token_id: PydanticObjectId) -> PersonalAccessToken | None:
        return await by_id(PersonalAccessToken, token_id)
