"""Turning a bearer token into a `Caller`, and telling whether a caller is still who they were."""

from beanie import PydanticObjectId

from backend.access.caller import Caller, Via
from backend.access.facts import AccessFacts
from backend.auth.documents import PAT_PREFIX
from backend.auth.errors import InvalidToken
from backend.core.security import AccessTokens, InvalidAccessToken, digest
from backend.users.documents import User


class Authenticator:
    def __init__(self, facts: AccessFacts, access_tokens: AccessTokens) -> None:
        self._facts = facts
        self._access_tokens = access_tokens

    async def caller(self, token: str) -> Caller:
        """The caller behind a bearer token; InvalidToken for anything that does not let them in."""
        if token.startswith(PAT_PREFIX):
            found = await self._facts.token(digest(token))
            if found is None or not found.active:
                raise InvalidToken()
            return Caller(await self._account(found.user_id), Via.PERSONAL_ACCESS_TOKEN, found.id)
        try:
            claims = self._access_tokens.read(token)
        except InvalidAccessToken as exc:
            raise InvalidToken() from exc
        session_id, subject = claims.session_id or "", claims.subject
        if not (PydanticObjectId.is_valid(session_id) and PydanticObjectId.is_valid(subject)):
            raise InvalidToken("This access token names no session; log in again.")
        user_id = PydanticObjectId(subject)
        session = await self._facts.session(PydanticObjectId(session_id))
        if session is None or session.user_id != user_id or not session.active:
            raise InvalidToken("This session has ended; log in again.")
        return Caller(
            await self._account(user_id),
            Via.ACCESS_TOKEN,
            claims.token_id,
            session_id=claims.session_id,
            token_expires_at=claims.expires_at,
        )

    async def still_valid(self, caller: Caller) -> bool:
        """Whether the caller's session or token and account still let them in (for open streams)."""
        if caller.via is Via.PERSONAL_ACCESS_TOKEN:
            from_db = await self._facts.token_by_id(caller.token_id)
            token_ok = from_db is not None and from_db.active
        else:
            session = await self._facts.session(PydanticObjectId(caller.session_id))
            token_ok = session is not None and session.active
        if not token_ok:
            return False
        account = await self._facts.account(caller.user_id)
        return account is not None and not account.disabled

    async def _account(self, user_id: PydanticObjectId) -> User:
        account = await self._facts.account(user_id)
        if account is None or account.disabled:
            raise InvalidToken()
        return account
