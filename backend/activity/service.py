"""Writing and reading the activity log. Imports no other domain: names come in as a lookup."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import structlog
from beanie import PydanticObjectId
from pydantic import ValidationError

from backend.activity.documents import ActivityRecord, Target
from backend.activity.events import EventBus
from backend.activity.repository import ActivityRepository
from backend.activity.schemas import ActivityChanges, ActivityRead, ActorSummary
from backend.activity.verbs import ActivityVerb
from backend.core.pagination import CursorCodec, Page
from backend.core.time import as_utc

log = structlog.get_logger(__name__)


def readable_changes(record: ActivityRecord) -> ActivityChanges:
    """The record's changes as the contract types them. A field a record holds in another shape
    (written by another version) is left out and logged: one odd record must not turn a whole
    activity page, or a stream's replay, into an error."""
    try:
        return ActivityChanges.model_validate(record.changes)
    except ValidationError:
        readable: dict[str, Any] = {}
        for name, change in record.changes.items():
            try:
                ActivityChanges.model_validate({name: change})
            except ValidationError:
                continue
            readable[name] = change
        log.warning(
            "activity_changes_unreadable",
            record_id=str(record.id),
            left_out=sorted(set(record.changes) - set(readable)),
        )
        return ActivityChanges.model_validate(readable)


_VERBS = frozenset(verb.value for verb in ActivityVerb)


class Shown(Protocol):
    """How a person is shown (the users domain's `Person`), without importing it."""

    @property
    def display_name(self) -> str: ...

    @property
    def handle(self) -> str: ...


NameLookup = Callable[[set[PydanticObjectId]], Awaitable[Mapping[PydanticObjectId, Shown]]]
# People mentioned in a change, by the task the change is about (a task's or a comment's record).
Mentions = Mapping[PydanticObjectId, frozenset[PydanticObjectId]]
# Who else hears of recorded changes (notifications), given their records and the people mentioned.
ChangeListener = Callable[[Sequence[ActivityRecord], Mentions], Awaitable[None]]


async def _nobody(records: Sequence[ActivityRecord], mentioned: Mentions) -> None:
    return None


class ActivityService:
    def __init__(
        self, events: EventBus, names: NameLookup, cursors: CursorCodec, listener: ChangeListener = _nobody
    ) -> None:
        self._events = events
        self._listener = listener
        self._names = names
        self._records = ActivityRepository()
        self._cursors = cursors

    async def record(
        self,
        *,
        project_id: PydanticObjectId,
        actor_id: PydanticObjectId,
        verb: ActivityVerb,
        target: Target,
        changes: dict[str, list[Any]] | None = None,
        task_id: PydanticObjectId | None = None,
    ) -> ActivityRecord:
        record = ActivityRecord(
            project_id=project_id,
            actor_id=actor_id,
            verb=verb,
            target=target,
            changes=changes or {},
            task_id=task_id,
        )
        await self.record_many([record])
        return record

    async def record_many(self, records: list[ActivityRecord], *, mentioned: Mentions | None = None) -> None:
        """Append records and announce them (a change that ends cached answers bumps their
        generations between the two: `append`, bump, `announce`)."""
        await self.append(records)
        await self.announce(records, mentioned=mentioned)

    async def record_change(
        self,
        records: list[ActivityRecord],
        end_stale_answers: Callable[[], Awaitable[None]],
        *,
        mentioned: Mentions | None = None,
    ) -> None:
        """Records of a change already stored: append them, end the cached answers that could lack
        the change (the caller's generation bump), then announce them. The bump comes after the
        append, so that no read in between caches the old activity under the new generation; and it
        comes even when the append fails, since the change itself is stored (a deleted task must
        not stay served from the cache for its TTL). `mentioned`: the people each task's change
        mentions (member ids, resolved by the caller), for notifications."""
        try:
            await self.append(records)
        finally:
            await end_stale_answers()
        await self.announce(records, mentioned=mentioned)

    async def append(self, records: list[ActivityRecord]) -> None:
        """Store records, one insert for all."""
        if not records:
            return
        for record in records:
            record.id = record.id or PydanticObjectId()  # insert_many does not fill ids in
        await self._records.insert_many(records)

    async def announce(self, records: list[ActivityRecord], *, mentioned: Mentions | None = None) -> None:
        """Tell live streams of stored records, and the listener (the people to notify)."""
        if not records:
            return
        for read in await self.read(records):
            await self._events.publish(read.project_id, read.model_dump(mode="json"))
        try:
            await self._listener(records, mentioned or {})
        except Exception as exc:
            # The change and its records are stored: failing the request now (a 503) would have the
            # client retry and make it twice. Those not notified read it in the activity log.
            log.error(
                "change_listener_failed",
                error=type(exc).__name__,  # the type only: a driver's message may name hosts
                record_ids=[str(r.id) for r in records],
            )

    async def page(
        self,
        project_id: PydanticObjectId,
        *,
        task_id: PydanticObjectId | None = None,
        verbs: Sequence[str],
        actor_id: PydanticObjectId | None,
        cursor: str | None,
        limit: int,
    ) -> Page[ActivityRead]:
        """Newest first."""
        conditions: dict[str, Any] = {"project_id": project_id}
        if task_id is not None:
            conditions["task_id"] = task_id
        if verbs:
            conditions["verb"] = {"$in": verbs}
        if actor_id is not None:
            conditions["actor_id"] = actor_id
        scope = f"activity:{project_id}:{task_id}:{sorted(verbs)}:{actor_id}"
        items, next_cursor = await self._records.newest_first(
            conditions, codec=self._cursors, scope=scope, cursor=cursor, limit=limit
        )
        return Page[ActivityRead](items=await self.read(items), next_cursor=next_cursor)

    async def since(
        self, project_id: PydanticObjectId, last_id: PydanticObjectId, limit: int
    ) -> list[ActivityRecord]:
        """Records of the project written after `last_id`, oldest first (for resuming a stream)."""
        last = await self._records.by_id(last_id)  # the project is checked here
        if last is None or last.id is None or last.project_id != project_id:
            return []
        return await self._records.after(last, limit)

    async def get(self, record_id: PydanticObjectId) -> ActivityRecord | None:
        return await self._records.by_id(record_id)

    async def read(self, records: list[ActivityRecord]) -> list[ActivityRead]:
        """The records as the contract types them. One with a verb this version does not know (a
        newer one wrote it, during a rolling deploy) is left out and logged, not a failed page."""
        known = [r for r in records if r.verb in _VERBS]
        for odd in (r for r in records if r.verb not in _VERBS):
            log.warning("activity_verb_unknown", record_id=str(odd.id), verb=odd.verb)
        records = known
        people = await self._names({r.actor_id for r in records})
        return [
            ActivityRead(
                id=r.id,
                project_id=r.project_id,
                task_id=r.task_id,
                actor=ActorSummary(
                    id=r.actor_id,
                    display_name=people[r.actor_id].display_name if r.actor_id in people else "",
                    handle=people[r.actor_id].handle if r.actor_id in people else "",
                ),
                verb=r.verb,
                target=r.target,
                changes=readable_changes(r),
                created_at=as_utc(r.created_at),
            )
            for r in records
        ]
