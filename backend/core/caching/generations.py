"""Data generations: one counter per project, the last part of every cache key of its answers.

The services that change a project's data bump its generation (one INCR), which makes all of the
project's cached answers unreachable at once; nothing scans keys. Access never depends on it
(backend/access/facts.py): a bump lost while Redis fails leaves answers stale for at most the cache
TTL, visible only to those who may see the project.
"""

from backend.core.caching import keys
from backend.core.caching.stores import QuietStore


class Generations:
    def __init__(self, store: QuietStore) -> None:
        self._store = store

    async def current(self, project_id: object) -> int | None:
        """The project's generation; None when the store could not be read."""
        raw = await self._store.run(self._store.store.get(keys.generation(project_id)), b"?")
        return None if raw == b"?" else int(raw or 0)

    async def bump(self, project_id: object) -> None:
        await self._store.run(self._store.store.incr(keys.generation(project_id)), 0)
