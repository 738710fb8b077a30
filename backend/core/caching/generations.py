"""Data generations: values that are the last part of every cache key of the answers they cover.

A project's generation covers what any change in it can show (lists, statistics, members); a task's
generation covers what only that task's changes can show (its detail and its activity). The services
that change data bump what they changed, in one round trip, which makes every dependent answer
unreachable at once; nothing scans keys, and a read of an unrelated task stays a hit while its
project is being written to. Access never depends on it (backend/access/facts.py): a bump lost while
Redis fails leaves answers stale for at most the cache TTL, visible only to those who may see them.

A project's generation is a counter (projects are few). A task's is a random value that lives twice
the cache TTL after the task's last change, so that Redis does not keep a key for every task ever
written: once it is gone, readers use 0, and every answer stored before that change has expired by
then (an answer lives one TTL); the next change draws a value never used, never an old one a counter
would count to again.
"""

import secrets
from collections.abc import Iterable

from backend.core.caching import keys
from backend.core.caching.stores import QuietStore

_UNREADABLE = b"?"  # never a generation's value


class Generations:
    def __init__(self, store: QuietStore, cache_ttl_seconds: int) -> None:
        self._store = store
        self._task_ttl = 2 * cache_ttl_seconds

    async def current(self, project_id: object) -> int | None:
        """The project's generation; None when the store could not be read."""
        return await self._read(keys.generation(project_id))

    async def current_many(self, project_ids: list[object]) -> list[int] | None:
        """The generations of these projects, in one round trip; None when the store could not be
        read (then none is known)."""
        if not project_ids:
            return []
        unreadable: list[bytes | None] = [_UNREADABLE]
        raw = await self._store.run(
            self._store.store.mget([keys.generation(p) for p in project_ids]), unreadable
        )
        if len(raw) != len(project_ids) or _UNREADABLE in raw:
            return None
        return [int(value or 0) for value in raw]

    async def of_task(self, task_id: object) -> int | None:
        """The task's generation; None when the store could not be read."""
        return await self._read(keys.task_generation(task_id))

    async def bump(self, project_id: object, tasks: Iterable[object] = ()) -> None:
        """A change in the project, to these tasks (or their comments) if any."""
        drawn = {keys.task_generation(task): str(secrets.randbits(62) + 1).encode() for task in tasks}
        bump = self._store.store.bump([keys.generation(project_id)], drawn, self._task_ttl)
        await self._store.run(bump, None)

    async def _read(self, key: str) -> int | None:
        raw = await self._store.run(self._store.store.get(key), _UNREADABLE)
        return None if raw == _UNREADABLE else int(raw or 0)
