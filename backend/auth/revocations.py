"""Access tokens revoked before they expire (logout): their ids, kept in the shared cache store (Redis,
or in process without it) until they would expire. If the store is down, tokens keep working until
they expire (minutes): availability over an early logout."""

from datetime import datetime

from backend.core.cache import ResponseCache
from backend.core.time import utcnow


def revocation_key(token_id: str) -> str:
    return f"tasklane:revoked-access:{token_id}"


class RevokedAccessTokens:
    def __init__(self, store: ResponseCache) -> None:
        self._store = store

    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        seconds = int((expires_at - utcnow()).total_seconds()) + 1
        if seconds > 0:
            await self._store.set_json(revocation_key(token_id), True, ttl=seconds)

    async def is_revoked(self, token_id: str) -> bool:
        return bool(await self._store.get_json(revocation_key(token_id)))
