"""Stream tickets: how a browser's EventSource, which cannot send `Authorization`, opens a stream.

A ticket is obtained with the bearer token, names one stream path, and lasts a minute or so: the
EventSource reconnects with it in that time. It is signed with a key of its own (never confused with
an access token), carries the session or personal access token it was issued for (so ending either
refuses it at once), and goes in the query string, which Tasklane's logs never record.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from backend.access.caller import Caller, Via
from backend.auth.errors import InvalidToken
from backend.core.config import Settings
from backend.core.security import derive_key


@dataclass(frozen=True)
class TicketClaims:
    user_id: str
    ticket_id: str
    session_id: str | None  # issued for a sign-in ...
    token_id: str | None  # ... or for a personal access token


class StreamTickets:
    TYPE = "stream"
    ALGORITHM = "HS256"

    def __init__(self, settings: Settings) -> None:
        self._key = derive_key(settings, "stream-ticket")
        self.ttl = timedelta(seconds=settings.stream_ticket_ttl_seconds)

    def issue(self, caller: Caller, path: str) -> tuple[str, datetime]:
        """A ticket for `caller` to open the stream at `path`, and when it expires."""
        now = datetime.now(UTC)
        expires = now + self.ttl
        claims: dict[str, object] = {
            "typ": self.TYPE,
            "sub": str(caller.user_id),
            "aud": path,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
        }
        if caller.via is Via.PERSONAL_ACCESS_TOKEN:
            claims["pat"] = caller.token_id
        else:
            claims["sid"] = caller.session_id
        return jwt.encode(claims, self._key, algorithm=self.ALGORITHM), expires.replace(microsecond=0)

    def read(self, ticket: str, path: str) -> TicketClaims:
        """The claims of a ticket issued for exactly this path; InvalidToken otherwise."""
        try:
            claims = jwt.decode(
                ticket,
                self._key,
                algorithms=[self.ALGORITHM],
                audience=path,
                options={"require": ["typ", "sub", "aud", "exp", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken("The stream ticket is expired, malformed or for another stream.") from exc
        if claims["typ"] != self.TYPE or ("sid" in claims) == ("pat" in claims):
            raise InvalidToken("The stream ticket is expired, malformed or for another stream.")
        return TicketClaims(
            user_id=str(claims["sub"]),
            ticket_id=str(claims["jti"]),
            session_id=claims.get("sid"),
            token_id=claims.get("pat"),
        )
