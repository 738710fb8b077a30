"""Turning a bearer token into a `Caller`, and telling whether a caller is still who they were."""

import math
import time

from beanie import PydanticObjectId

from backend.access.caller import Caller, Via
from backend.access.facts import AccessFacts, Account, TokenState
from backend.access.tickets import StreamTickets
from backend.auth.documents import PAT_PREFIX
from backend.auth.errors import InvalidToken
from backend.core.security import AccessTokens, InvalidAccessToken, digest
from backend.core.time import as_utc


class Authenticator:
    DECIDED_TOKENS = 10_000

    def __init__(self, facts: AccessFacts, access_tokens: AccessTokens, tickets: StreamTickets) -> None:
        self._facts = facts
        self._access_tokens = access_tokens
        self._tickets = tickets
        # token -> (the facts' epoch, valid until (POSIX s), the caller): a decision made from copies
        # stands while no change to any of them was reported since (the epoch) and nothing expired.
        self._decided: dict[str, tuple[int, float, Caller]] = {}

    async def caller(self, token: str) -> Caller:
        """The caller behind a bearer token; InvalidToken for anything that does not let them in."""
        decided = self._decided.get(token)
        if decided is not None:
            epoch, until, caller = decided
            if epoch == self._facts.trusted_epoch() and until > time.time():
                return caller
        before = self._facts.trusted_epoch()  # before reading: a change meanwhile moves it on
        caller, until = await self._decide(token)
        if before is not None and before == self._facts.trusted_epoch():
            if len(self._decided) >= self.DECIDED_TOKENS:
                self._decided.clear()
            self._decided[token] = (before, until, caller)
        return caller

    async def _decide(self, token: str) -> tuple[Caller, float]:
        """The caller, and until when (POSIX seconds) nothing but a reported change can end it."""
        if token.startswith(PAT_PREFIX):
            found = await self._facts.token(digest(token))
            if found is None or not found.active:
                raise InvalidToken()
            until = as_utc(found.expires_at).timestamp() if found.expires_at else math.inf
            return await self._token_caller(found), until
        try:
            claims = self._access_tokens.read(token)
        except InvalidAccessToken as exc:
            raise InvalidToken() from exc
        user_id, session_id = self._ids(claims.subject, claims.session_id)
        caller, session_expires = await self._session_caller(user_id, session_id, claims.token_id)
        return caller, min(session_expires, claims.expires_at.timestamp())

    async def ticket_caller(self, ticket: str, path: str) -> Caller:
        """The caller a stream ticket was issued to, if it names this path and its session or
        personal access token and account still let them in (read now: streams open rarely)."""
        claims = self._tickets.read(ticket, path)
        if claims.token_id is not None:
            return await self._live_token_caller(claims.token_id, claims.user_id)
        user_id, session_id = self._ids(claims.user_id, claims.session_id)
        caller, _ = await self._session_caller(user_id, session_id, claims.ticket_id)
        return caller

    async def _live_token_caller(self, token_id: str, user_id: str) -> Caller:
        """The caller of `user_id`'s personal access token `token_id`, read by id, while it is active."""
        found = await self._facts.token_by_id(token_id)
        if found is None or not found.active or str(found.user_id) != user_id:
            raise InvalidToken()
        return await self._token_caller(found)

    async def _token_caller(self, token: TokenState) -> Caller:
        account = await self._account(token.user_id)
        return Caller(account.user, account.id, account.is_global_admin, Via.PERSONAL_ACCESS_TOKEN, token.id)

    async def _session_caller(
        self, user_id: PydanticObjectId, session_id: PydanticObjectId, token_id: str
    ) -> tuple[Caller, float]:
        """The caller of a live session of `user_id`, and when the session expires (POSIX s)."""
        session = await self._facts.session(session_id)
        if session is None or session.user_id != user_id or not session.active:
            raise InvalidToken("This session has ended; log in again.")
        account = await self._account(user_id)
        caller = Caller(
            account.user,
            user_id,
            account.is_global_admin,
            Via.ACCESS_TOKEN,
            token_id,
            session_id=str(session_id),
        )
        return caller, session.expires

    @staticmethod
    def _ids(subject: str, session_id: str | None) -> tuple[PydanticObjectId, PydanticObjectId]:
        """The (user, session) ids a token names."""
        session_id = session_id or ""
        if not (PydanticObjectId.is_valid(session_id) and PydanticObjectId.is_valid(subject)):
            raise InvalidToken("This access token names no session; log in again.")
        return PydanticObjectId(subject), PydanticObjectId(session_id)

    async def current(self, caller: Caller) -> Caller | None:
        """The caller as they are now, for open streams: None when their session or token, or their
        account, no longer lets them in; otherwise rebuilt from the account as it is now (a global
        admin demoted since the stream opened is no longer one). The same checks as at sign-in."""
        try:
            if caller.via is Via.PERSONAL_ACCESS_TOKEN:
                return await self._live_token_caller(caller.token_id, str(caller.user_id))
            session_id = PydanticObjectId(caller.session_id)
            now, _ = await self._session_caller(caller.user_id, session_id, caller.token_id)
        except InvalidToken:
            return None
        return now

    async def _account(self, user_id: PydanticObjectId) -> Account:
        account = await self._facts.account(user_id)
        if account is None or account.disabled:
            raise InvalidToken()
        return account
