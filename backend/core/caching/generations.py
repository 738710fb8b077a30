"""Data generations: counters that are the last part of every cache key of the answers they cover.

A project's generation covers what any change in it can show (lists, statistics, members); a task's
generation covers what only that task's changes can show (its detail and its activity). The services
that change data bump what they changed, in one round trip, which makes every dependent answer
unreachable at once; nothing scans keys, and a read of an unrelated task stays a hit while its
project is being written to. Access never depends on it (backend/access/facts.py): a bump lost while
Redis fails leaves answers stale for at most the cache TTL, visible only to those who may see them.
"""

from collections.abc import Iterable

from backend.core.caching import keys
from backend.core.caching.stores import QuietStore

_UNREADABLE = b"?"  # never a counter's value


class Generations:
    def __init__(self, store: QuietStore) -> None:
        self._store = store

    async def current(self, project_id: object) -> int | None:
        """The project's generation; None when the store could not be read."""
        return await self._read(keys.generation(project_id))

    async def of_task(self, task_id: object) -> int | None:
        """The task's generation; None when the store could not be read."""
        return await self._read(keys.task_generation(task_id))

    async def bump(self, project_id: object, tasks: Iterable[object] = ()) -> None:
        """A change in the project, to these tasks (or their comments) if any."""
        changed = [keys.generation(project_id), *(keys.task_generation(task) for task in tasks)]
        await self._store.run(self._store.store.incr_many(changed), None)

    async def _read(self, key: str) -> int | None:
        raw = await self._store.run(self._store.store.get(key), _UNREADABLE)
        return None if raw == _UNREADABLE else int(raw or 0)
