"""Access tokens revoked before they expire (logout): their ids, kept in Redis until they would expire."""

from datetime import datetime

import structlog

from backend.core.redis import RedisClient
from backend.core.time import utcnow

log = structlog.get_logger(__name__)
_KEY = "tasklane:revoked-access:{}"


class RevokedAccessTokens:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        seconds = int((expires_at - utcnow()).total_seconds()) + 1
        if seconds > 0:
            await self._redis.set(_KEY.format(token_id), b"1", ex=seconds)

    async def is_revoked(self, token_id: str) -> bool:
        try:
            return bool(await self._redis.exists(_KEY.format(token_id)))
        except Exception as exc:  # Redis down: access tokens are short-lived, so keep serving
            log.warning("revocation_check_unavailable", error=type(exc).__name__)
            return False
