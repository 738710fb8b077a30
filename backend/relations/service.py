"""Relations between tasks: who may make, see and remove them, and no cycle of `blocks`.

Access. A relation is made from one of its tasks (the path's): that needs write access to its
project (members and above, not archived) and read access to the other task's project (any role).
Both are the one policy's decisions (`ProjectAccess.decide`, as for a task looked up by key), on
projects read from MongoDB. A relation is shown, and can be removed, from either end, only while
the task at the other end is live and in a project the caller may see: someone removed from that
project stops seeing it, and a deleted task's relations are hidden until it is restored. Nothing is
deleted with a task: every answer filters when it is read.

Cycles. A new `blocks` is stored first and then checked: breadth-first along `blocks` from the
blocked task, one indexed query per level, looking for the blocking task. Found: the relation is
removed again and the answer is 409 `RELATION_CYCLE`. Checking after storing is what makes races
safe: of relations created concurrently that together close a cycle, the one stored last sees all
the others when it checks (each was stored before it), unless one of them was removed already; so
after every such request has answered, at least one of them is gone and no cycle stays stored.
Both may be refused (each saw the other), and for the few milliseconds of a check a relation that
is about to be refused can appear in a list; activity is recorded only for relations that stay.
The walk stops at MAX_BLOCKS_DEPTH levels or MAX_BLOCKS_CHECKED tasks: a relation whose blocked
task reaches further is refused (409 `BLOCKS_CHAIN_TOO_LONG`), since it cannot be shown to be safe.
The walk follows every stored `blocks`, also those of deleted tasks and of projects the caller
cannot see (a restored task brings its relations back, and they must not close a cycle then); the
refusal names no task.
"""

from collections import defaultdict
from collections.abc import Iterable

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from backend.activity.documents import ActivityRecord, Target
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.core.caching.generations import Generations
from backend.core.pagination import CursorCodec, Page
from backend.projects.errors import ProjectArchived
from backend.projects.service import ProjectAccess
from backend.relations.documents import RelationType, TaskRelation, pair_key
from backend.relations.errors import (
    BlocksChainTooLong,
    RelatedTaskNotFound,
    RelationCycle,
    RelationExists,
    RelationNotFound,
    SelfRelation,
)
from backend.relations.repository import RelationRepository, TaskEnd
from backend.relations.schemas import RelatedTask, RelationCreate, RelationRead
from backend.tasks.documents import Task

MAX_BLOCKS_DEPTH = 50
MAX_BLOCKS_CHECKED = 10_000


class RelationService:
    def __init__(self, cursors: CursorCodec, activity: ActivityService, generations: Generations) -> None:
        self._cursors = cursors
        self._activity = activity
        self._generations = generations
        self._relations = RelationRepository()

    async def create(self, access: ProjectAccess, task: Task, data: RelationCreate) -> RelationRead:
        """`task` (of the access's project) `data.type` the other task."""
        access.writable()
        here = TaskEnd.of(task)
        if data.task_id == here.id:
            message = "A task cannot relate to itself; name another task."
            raise SelfRelation(message, field_errors={"task_id": [message]})
        other = await self._visible_end(access, data.task_id, changing=True)
        if other is None:
            raise RelatedTaskNotFound()
        source, target = here, other
        if data.type is RelationType.RELATES_TO and str(other.id) < str(here.id):
            source, target = other, here  # symmetric: stored one way only, lower id first
        relation = TaskRelation(
            type=data.type,
            source_task_id=source.id,
            source_project_id=source.project_id,
            target_task_id=target.id,
            target_project_id=target.project_id,
            pair=pair_key(data.type, source.id, target.id),
            created_by=access.user_id,
        )
        try:
            await self._relations.insert(relation)
        except DuplicateKeyError as exc:
            raise RelationExists() from exc
        if data.type is RelationType.BLOCKS:
            try:
                await self._refuse_cycle(relation)
            except BaseException:
                # Refused (or failed, or cancelled) after storing: it must not stay (module docstring).
                await self._relations.delete(relation)
                raise
        await self._record(relation, source, target, access.user_id, ActivityVerb.RELATION_CREATED)
        return _read(relation, here.id, other)

    async def page(
        self, access: ProjectAccess, task: Task, *, cursor: str | None, limit: int
    ) -> Page[RelationRead]:
        """Oldest first. A page holds fewer than `limit` when some relations are hidden (their other
        task deleted, or in a project the caller cannot see); `next_cursor` still says if more follow.
        Three queries whatever the number of relations: the page, its other tasks, their projects."""
        assert task.id is not None
        relations, next_cursor = await self._relations.of_task_oldest_first(
            task.id, codec=self._cursors, cursor=cursor, limit=limit
        )
        shown = await self._visible_ends(access, [r.other_end(task.id) for r in relations])
        items = [
            _read(r, task.id, shown[r.other_end(task.id)]) for r in relations if r.other_end(task.id) in shown
        ]
        return Page[RelationRead](items=items, next_cursor=next_cursor)

    async def get(
        self, access: ProjectAccess, task: Task, relation_id: PydanticObjectId, *, changing: bool = False
    ) -> tuple[TaskRelation, TaskEnd]:
        """A relation of this task whose other task the caller sees, and that task; else 404."""
        assert task.id is not None
        relation = await self._relations.by_id(relation_id)
        if relation is None or not relation.has_end(task.id):
            raise RelationNotFound()
        other = await self._visible_end(access, relation.other_end(task.id), changing=changing)
        if other is None:
            raise RelationNotFound()
        return relation, other

    async def read(self, access: ProjectAccess, task: Task, relation_id: PydanticObjectId) -> RelationRead:
        relation, other = await self.get(access, task, relation_id)
        assert task.id is not None
        return _read(relation, task.id, other)

    async def delete(self, access: ProjectAccess, task: Task, relation_id: PydanticObjectId) -> None:
        """From either end; needs write access to the path task's project, as creating does."""
        access.writable()
        relation, other = await self.get(access, task, relation_id, changing=True)
        here = TaskEnd.of(task)
        if not await self._relations.delete(relation):
            raise RelationNotFound()  # removed meanwhile: its removal is recorded once, by that request
        source, target = (here, other) if relation.source_task_id == here.id else (other, here)
        await self._record(relation, source, target, access.user_id, ActivityVerb.RELATION_DELETED)

    async def _visible_end(
        self, access: ProjectAccess, task_id: PydanticObjectId, *, changing: bool = False
    ) -> TaskEnd | None:
        """`changing`: the relation is being made or removed, which changes the other task's project
        too (its relation list and activity), so an archived one refuses it as every write to it does."""
        return (await self._visible_ends(access, [task_id], changing=changing)).get(task_id)

    async def _visible_ends(
        self, access: ProjectAccess, task_ids: Iterable[PydanticObjectId], *, changing: bool = False
    ) -> dict[PydanticObjectId, TaskEnd]:
        """Of these tasks, the live ones in projects the caller may see: two queries at most (the
        tasks, then the projects other than the access's, whose decision is already made)."""
        ends = await self._relations.task_ends(sorted(set(task_ids)))
        live = [end for end in ends.values() if not end.deleted]
        others = {end.project_id for end in live} - {access.project_id}
        visible = {access.project_id}
        for project in await self._relations.projects(sorted(others)):
            if project.id is not None and ProjectAccess.decide(access.caller, project) is not None:
                if changing and project.archived:
                    raise ProjectArchived()
                visible.add(project.id)
        return {end.id: end for end in live if end.project_id in visible}

    async def _refuse_cycle(self, relation: TaskRelation) -> None:
        """Raise if the stored `relation` closes a cycle of `blocks` (module docstring): whether the
        task it blocks reaches the blocking task along `blocks`, one query per level."""
        frontier = {relation.target_task_id}
        seen = set(frontier)
        for _ in range(MAX_BLOCKS_DEPTH):
            reached = await self._relations.blocked_by_any(sorted(frontier))
            if relation.source_task_id in reached:
                raise RelationCycle()
            frontier = reached - seen
            if not frontier:
                return
            seen |= frontier
            if len(seen) > MAX_BLOCKS_CHECKED:
                break
        raise BlocksChainTooLong()

    async def _record(
        self,
        relation: TaskRelation,
        source: TaskEnd,
        target: TaskEnd,
        actor: PydanticObjectId,
        verb: ActivityVerb,
    ) -> None:
        """One record on each task's own feed (in its project), and the generations of both ends'
        activity ended: task details and lists do not show relations, so nothing else is cached."""
        records = [
            _activity_of(relation, end, far, actor, verb) for end, far in ((source, target), (target, source))
        ]
        touched: dict[PydanticObjectId, list[PydanticObjectId]] = defaultdict(list)
        for end in (source, target):
            touched[end.project_id].append(end.id)

        async def end_stale_activity() -> None:
            for project_id, task_ids in touched.items():
                await self._generations.bump(project_id, task_ids)

        await self._activity.record_change(records, end_stale_activity)


def _read(relation: TaskRelation, task_id: PydanticObjectId, other: TaskEnd) -> RelationRead:
    return RelationRead(
        id=relation.id,
        type=relation.seen_from(task_id),
        task=RelatedTask(
            id=other.id, project_id=other.project_id, key=other.key, title=other.title, status=other.status
        ),
        created_at=relation.created_at,
    )


def _activity_of(
    relation: TaskRelation, end: TaskEnd, far: TaskEnd, actor: PydanticObjectId, verb: ActivityVerb
) -> ActivityRecord:
    """The record on `end`'s feed. It names the far task's key only when both are in one project:
    members of this project may not see the other one (the relation list hides it from them)."""
    assert relation.id is not None
    seen = {
        "type": relation.seen_from(end.id).value,
        "task_id": str(far.id),
        "task_key": far.key if far.project_id == end.project_id else None,
    }
    created = verb is ActivityVerb.RELATION_CREATED
    return ActivityRecord(
        project_id=end.project_id,
        task_id=end.id,
        actor_id=actor,
        verb=verb,
        target=Target(type="relation", id=relation.id, key=end.key),
        changes={"relation": [None, seen] if created else [seen, None]},
    )
