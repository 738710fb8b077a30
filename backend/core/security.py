"""Password hashing (argon2 through pwdlib), opaque token digests and access-token JWTs."""

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from backend.core.config import Settings


class PasswordHasher:
    """argon2id with costs from settings; a hash records its own costs, so old hashes keep verifying."""

    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_hash_time_cost,
                    memory_cost=settings.password_hash_memory_kib,
                    parallelism=1,
                ),
            )
        )
        # Verifying against this when the account does not exist makes both failures take as long.
        self._dummy = self._hash.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            self._hash.verify(password, self._dummy)
            return False
        return self._hash.verify(password, password_hash)


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A key for one purpose (cursor signing) derived from JWT_SECRET: one secret to manage."""
    return hashlib.sha256(
        f"tasklane:{purpose}:".encode() + settings.jwt_secret.get_secret_value().encode()
    ).digest()


def new_secret(prefix: str) -> str:
    """A high-entropy opaque token with a recognisable prefix (for secret scanners and people)."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    token_id: str
    session_id: str | None
    expires_at: datetime


class InvalidAccessToken(Exception):
    pass


class AccessTokens:
    """Short-lived JWTs: `sub` (user id), `exp`, `iat`, `jti`, `typ=access`, and `sid` (refresh family)."""

    TYPE = "access"

    VERIFIED_CACHE_SIZE = 10_000

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._algorithm = settings.jwt_algorithm
        self.ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        # A client sends the same token many times: verify its signature once, check expiry every time.
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()

    def issue(self, subject: str, *, session_id: str | None, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "sub": subject,
            "iat": int(issued.timestamp()),
            "exp": int((issued + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": self.TYPE,
        }
        if session_id:
            claims["sid"] = session_id
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)

    def read(self, token: str) -> AccessClaims:
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at.timestamp() > time.time():
                self._verified.move_to_end(token)
                return known
            del self._verified[token]
            raise InvalidAccessToken("expired")
        claims = self._verify(token)
        self._verified[token] = claims
        if len(self._verified) > self.VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],  # one algorithm: `none` and algorithm swaps are refused
                options={"require": ["sub", "exp", "iat", "jti", "typ"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(str(exc)) from exc
        if claims["typ"] != self.TYPE:
            raise InvalidAccessToken("not an access token")
        return AccessClaims(
            subject=str(claims["sub"]),
            token_id=str(claims["jti"]),
            session_id=claims.get("sid"),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
