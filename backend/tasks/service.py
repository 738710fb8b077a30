"""Task rules: numbering, validation, partial updates with revisions, soft delete, bulk changes, lists."""

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import structlog
from beanie import PydanticObjectId

from backend.activity.diff import diff, plain
from backend.activity.documents import ActivityRecord, Target
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.core.caching.generations import Generations
from backend.core.http.errors import ProblemError
from backend.core.http.preconditions import PreconditionFailed, check_if_match
from backend.core.pagination import CursorCodec, Page
from backend.core.storage.db import Update
from backend.core.time import as_utc, utcnow
from backend.labels.service import LabelService
from backend.projects.documents import Project
from backend.projects.errors import ProjectArchived, ProjectNotFound
from backend.projects.repository import ProjectRepository
from backend.projects.service import MemberProjects, ProjectAccess, ProjectScope
from backend.tasks.documents import Task, TaskStatus
from backend.tasks.errors import AssigneeNotMember, BoardChanged, TaskNotFound, TaskNumberTaken
from backend.tasks.hierarchy import check_parent, refused_parents
from backend.tasks.listing import (
    SortOrder,
    TaskFilters,
    cursor_scope,
    cursor_scope_across,
    encode_value,
    filter_query,
    read_cursor,
)
from backend.tasks.ordering import gap_for, rebalance
from backend.tasks.ranks import MAX_RANK_LENGTH, initial_rank
from backend.tasks.repository import Placement, TaskRepository
from backend.tasks.schemas import (
    MAX_LABELS,
    AssigneeSummary,
    BulkItemResult,
    BulkResult,
    BulkUpdate,
    TaskCreate,
    TaskMove,
    TaskRead,
    TaskUpdate,
)
from backend.tasks.search import search_terms
from backend.users.mentions import Mentions, mentions_read, newly_mentioned
from backend.users.service import NOBODY, UserService

log = structlog.get_logger(__name__)

_RETRIES = 8
_TEXT_FIELDS = {"title", "description", "labels"}
# What a Task stores that its answer does not show (the assignees are shown with their names).
_NOT_READ = {"assignee_ids", "mentioned_ids", "search_terms", "version", "revision_id"}
# TaskRead is built without validation (`read`), so its fields must be exactly the Task's shown ones.
if set(TaskRead.model_fields) != set(Task.model_fields) - _NOT_READ | {"assignees", "mentions"}:
    raise TypeError("TaskRead's fields no longer match Task's: update TaskService.read")
# Fields whose changes the activity log shows.
TRACKED_FIELDS = (
    "title",
    "description",
    "status",
    "priority",
    "labels",
    "assignee_ids",
    "due_at",
    "parent_id",
    "position",
)


class TaskService:
    def __init__(
        self, users: UserService, cursors: CursorCodec, activity: ActivityService, generations: Generations
    ) -> None:
        self._users = users
        self._activity = activity
        self._cursors = cursors
        self._generations = generations
        self._tasks = TaskRepository()
        self._projects = ProjectRepository()
        self._labels = LabelService(cursors, activity, generations)
        self._mentions = Mentions(users)

    async def create(self, scope: ProjectScope, data: TaskCreate) -> Task:
        """Needs no project read: the member map gives roles and members, the counter the key."""
        scope.writable()
        _check_assignees(scope.member_ids, data.assignee_ids)
        if data.parent_id is not None:
            await check_parent(scope.project_id, None, data.parent_id)
        mentioned = await self._mentions.of(data.description, scope.member_ids)
        number, project_key = await self._next_number(scope.project_id)
        task = _new_task(scope, data, number, project_key, utcnow(), mentioned)
        await self._tasks.insert(task)
        await self._labels.add_used(scope.project_id, task.labels)  # after the write: none without labels
        await self._record(
            task, scope.user_id, ActivityVerb.TASK_CREATED, _created_changes(task), task.mentioned_ids
        )
        return task

    async def create_many(
        self, scope: ProjectScope, items: Sequence[TaskCreate]
    ) -> list[Task | ProblemError]:
        """Create each item as `create` would, with the database work of one create whatever their
        number: an item `create` would refuse gets that error instead of a task, and the others go on.

        Valid items take contiguous numbers in request order from one step of the counter; the tasks
        go in one insert, their activity in one, and the generations are bumped once. The parents
        are checked together (at most four queries: the chains' levels).

        Without a transaction the insert can store some tasks and not others. A number already taken
        (only if the project's counter went back, as after a restore) refuses that task alone: its
        item gets TASK_NUMBER_TAKEN, its number stays unused, the others are created and recorded. An
        insert that fails as a whole (the database unreachable) fails the request, as a single create
        would; it ends the project's cached lists first, in case the server stored some tasks.
        """
        scope.writable()
        refused = await refused_parents(
            scope.project_id, {data.parent_id for data in items if data.parent_id is not None}
        )
        problems: dict[int, ProblemError] = {}
        for index, data in enumerate(items):
            try:
                _check_assignees(scope.member_ids, data.assignee_ids)
            except AssigneeNotMember as exc:
                problems[index] = exc
                continue
            if data.parent_id is not None and data.parent_id in refused:
                problems[index] = refused[data.parent_id]
        valid = [index for index in range(len(items)) if index not in problems]
        created: dict[int, Task] = {}
        if valid:
            # Every item's mentions in one query, the numbers in one step of the counter.
            mentioned = await self._mentions.of_each([items[i].description for i in valid], scope.member_ids)
            first, project_key = await self._next_number(scope.project_id, len(valid))
            now = utcnow()
            for offset, index in enumerate(valid):
                created[index] = _new_task(
                    scope, items[index], first + offset, project_key, now, mentioned[offset]
                )
                created[index].id = PydanticObjectId()  # insert_many does not fill ids in
            try:
                taken = await self._tasks.insert_many(list(created.values()))
            except BaseException:
                # The server may have stored some (a timeout, a lost connection): no cached list may
                # hide them. Their activity is missing then, as for a single create failing so.
                await self._generations.bump(scope.project_id)
                raise
            for offset in sorted(taken):
                task = created.pop(valid[offset])
                problems[valid[offset]] = TaskNumberTaken(
                    f"The number {task.number} given to this item belongs to another task (the "
                    "project's counter is behind its tasks); nothing was created for it: send it again."
                )
            if taken:
                log.error("task_numbers_taken", project_id=str(scope.project_id), count=len(taken))
            # The catalogue learns the labels the stored tasks carry, one round trip for the batch.
            await self._labels.add_used(
                scope.project_id, [lb for task in created.values() for lb in task.labels]
            )
        if created:
            tasks = list(created.values())
            records = [
                self._activity_of(t, scope.user_id, ActivityVerb.TASK_CREATED, _created_changes(t))
                for t in tasks
            ]
            await self._activity.record_change(
                records,
                partial(self._generations.bump, scope.project_id, [t.id for t in tasks]),
                mentioned={t.id: frozenset(t.mentioned_ids) for t in tasks if t.id and t.mentioned_ids},
            )
        return [created[index] if index in created else problems[index] for index in range(len(items))]

    async def get(
        self, project_id: PydanticObjectId, task_id: PydanticObjectId, *, deleted: bool = False
    ) -> Task:
        task = await self._tasks.by_id(task_id)  # by _id alone; the rest is checked here
        if task is None or task.project_id != project_id or (task.deleted_at is not None) != deleted:
            raise TaskNotFound()
        return task

    async def get_by_number(self, project_id: PydanticObjectId, number: int) -> Task:
        task = await self._tasks.live_by_number(project_id, number)
        if task is None:
            raise TaskNotFound()
        return task

    async def read(self, tasks: list[Task]) -> list[TaskRead]:
        """Responses with assignee names, from one query for all the tasks."""
        people = await self._users.people({u for t in tasks for u in (*t.assignee_ids, *t.mentioned_ids)})

        # Built, not validated: every value comes from a validated Task of the same types.
        def shown(task: Task) -> TaskRead:
            assignees = [
                AssigneeSummary.model_construct(
                    id=a, display_name=people.get(a, NOBODY).display_name, handle=people.get(a, NOBODY).handle
                )
                for a in task.assignee_ids
            ]
            return TaskRead.model_construct(
                **task.model_dump(exclude=_NOT_READ),
                assignees=assignees,
                mentions=mentions_read(task.mentioned_ids, people),
            )

        return [shown(t) for t in tasks]

    async def update(
        self, access: ProjectAccess, task: Task, data: TaskUpdate, *, if_match: str | None
    ) -> Task:
        project = access.writable()
        fields = data.model_dump(exclude_unset=True)
        if "assignee_ids" in fields:
            _check_assignees({m.user_id for m in project.members}, data.assignee_ids or [])
        if fields.get("parent_id") is not None and fields["parent_id"] != task.parent_id:
            await check_parent(_id(project), task.id, fields["parent_id"])
        if fields.get("due_at") is not None:
            fields["due_at"] = as_utc(fields["due_at"])
        if fields.get("description") is not None and fields["description"] != task.description:
            # Resolved once, before the versioned write: the members as the project has them now.
            fields["mentioned_ids"] = await self._mentions.of(
                fields["description"], {m.user_id for m in project.members}
            )
        return await self._change(
            task,
            lambda snapshot: _changes(snapshot, fields),
            if_match=if_match,
            actor=access.user_id,
            verb=ActivityVerb.TASK_UPDATED,
        )

    async def delete(self, access: ProjectAccess, task: Task, *, if_match: str | None) -> None:
        access.writable()
        await self._change(
            task,
            lambda _: {"deleted_at": utcnow()},
            if_match=if_match,
            actor=access.user_id,
            verb=ActivityVerb.TASK_DELETED,
        )

    async def restore(self, access: ProjectAccess, task_id: PydanticObjectId) -> Task:
        project = access.writable()
        task = await self.get(_id(project), task_id, deleted=True)
        return await self._change(
            task,
            lambda _: {"deleted_at": None},
            if_match=None,
            deleted=True,
            actor=access.user_id,
            verb=ActivityVerb.TASK_RESTORED,
        )

    async def move(self, access: ProjectAccess, task: Task, data: TaskMove, *, if_match: str | None) -> Task:
        """Place the task between two cards of its board, in another column if asked. Only its own
        rank changes (tasks/ordering.py says how racing moves and long ranks are handled)."""
        access.writable()
        snapshot, jitter, rebalanced = task, False, False
        for _ in range(_RETRIES):
            check_if_match(if_match, snapshot.etag)
            gap = await gap_for(snapshot, after_id=data.after_id, before_id=data.before_id)
            # After a rebalance the card's old, long rank may still fall in the gap: replace it too.
            in_place = gap.holds(snapshot.rank) and not rebalanced
            fields: dict[str, Any] = {} if in_place else {"rank": gap.rank(jitter=jitter)}
            if len(fields.get("rank", "")) > MAX_RANK_LENGTH and not rebalanced:
                await rebalance(snapshot, self._generations)
                rebalanced = True
                continue
            if data.status is not None:
                fields["status"] = data.status
            changes = _changes(snapshot, fields)
            if not changes:
                return snapshot
            now = utcnow()
            placed = await self._tasks.place(*_versioned_update(snapshot, changes, now))
            if placed is Placement.APPLIED:
                changed: Task = snapshot.model_copy(
                    update={**changes, "updated_at": now, "version": snapshot.version + 1}
                )
                moved = diff(snapshot.model_dump(), changed.model_dump(), ("status", "rank"))
                await self._record(changed, access.user_id, ActivityVerb.TASK_UPDATED, moved)
                return changed
            if placed is Placement.RANK_TAKEN:  # a racing move took that rank: a random one in the gap
                jitter = True
                continue
            fresh = await self._tasks.by_id(snapshot.id)
            if fresh is None or fresh.deleted_at is not None:
                raise TaskNotFound()
            if if_match is not None:
                raise PreconditionFailed(headers={"ETag": fresh.etag}, current_etag=fresh.etag)
            snapshot = fresh
        raise BoardChanged("The board kept changing while the card moved: read it again and retry.")

    async def bulk_update(self, access: ProjectAccess, data: BulkUpdate) -> BulkResult:
        """At most four round trips whatever the number of ids: read, write, and one retry of both (one
        more when labels are added: the catalogue learns them)."""
        project = access.writable()
        changes = data.set
        invalid_for_all = None
        if changes.assignee_ids is not None:
            try:
                _check_assignees({m.user_id for m in project.members}, changes.assignee_ids)
            except AssigneeNotMember as exc:
                invalid_for_all = exc.detail
        outcome: dict[PydanticObjectId, BulkItemResult] = {}
        applied: dict[PydanticObjectId, tuple[Task, dict[str, Any]]] = {}
        pending = list(data.ids)
        for _ in range(2):
            found = {t.id: t for t in await self._tasks.live_of_project(project.id, pending)}
            updates: list[Update] = []
            now = utcnow()
            for task_id in pending:
                task = found.get(task_id)
                if task is None:
                    outcome[task_id] = BulkItemResult(id=task_id, result="not_found")
                    continue
                if invalid_for_all:
                    outcome[task_id] = BulkItemResult(id=task_id, result="invalid", detail=invalid_for_all)
                    continue
                fields = changes.model_dump(exclude_none=True, exclude={"add_labels", "remove_labels"})
                if changes.add_labels or changes.remove_labels:
                    removed = set(changes.remove_labels or [])
                    labels = [lb for lb in task.labels if lb not in removed]
                    labels += [lb for lb in changes.add_labels or [] if lb not in labels]
                    if len(labels) > MAX_LABELS:
                        detail = f"A task has at most {MAX_LABELS} labels."
                        outcome[task_id] = BulkItemResult(id=task_id, result="invalid", detail=detail)
                        continue
                    fields["labels"] = labels
                outcome[task_id] = BulkItemResult(id=task_id, result="updated")
                task_changes = _changes(task, fields)
                if task_changes:
                    updates.append(Update(*_versioned_update(task, task_changes, now)))
                    applied[task_id] = (task, task_changes)
            if await self._tasks.update_all(updates) == len(updates):
                pending = []
                break
            # Some changed meanwhile: find which by their version, and apply to fresh copies once more.
            pending = await self._not_applied([u.filter for u in updates])
        for task_id in pending:
            detail = "The task changed while the bulk update ran; retry."
            outcome[task_id] = BulkItemResult(id=task_id, result="invalid", detail=detail)
            applied.pop(task_id, None)
        # After the writes, the labels the updated tasks now carry and did not: one round trip.
        added = [
            lb for before, ch in applied.values() for lb in ch.get("labels", []) if lb not in before.labels
        ]
        await self._labels.add_used(access.project_id, added)
        records = [
            self._activity_of(
                before, access.user_id, ActivityVerb.TASK_UPDATED, _changes_diff(before, changes)
            )
            for before, changes in applied.values()
        ]
        if applied:
            await self._activity.record_change(
                records, partial(self._generations.bump, access.project_id, applied)
            )
        return BulkResult(results=[outcome[task_id] for task_id in data.ids])

    async def page(
        self,
        project_id: PydanticObjectId,
        caller_id: PydanticObjectId,
        filters: TaskFilters,
        order: SortOrder,
        *,
        cursor: str | None,
        limit: int,
        include_total: bool,
        project_key: str = "",
    ) -> Page[TaskRead]:
        """A page of tasks; the caller's right to `include_deleted` is checked by the router.
        `project_key` tells which keys in `filters.q` name tasks of this project (none without it)."""
        keys: dict[str, PydanticObjectId | None] = {project_key: None} if project_key else {}
        conditions = filter_query(project_id, filters, caller_id, project_keys=keys)
        scope = cursor_scope(project_id, order, conditions)
        return await self._sorted_page(conditions, scope, order, cursor, limit, include_total)

    async def page_across(
        self,
        projects: MemberProjects,
        chosen: list[PydanticObjectId],
        filters: TaskFilters,
        order: SortOrder,
        *,
        cursor: str | None,
        limit: int,
        include_total: bool,
    ) -> Page[TaskRead]:
        """A page of the tasks of every project the caller is a member of (or of the `chosen` ones
        among them; another is a 404), in one query whatever their number: `project_id $in` on the
        indexes led by project_id. A task key in `filters.q` names a task of the project with that key."""
        mine = projects.project_ids
        unknown = set(chosen) - set(mine)
        if unknown:
            raise ProjectNotFound()
        listed = sorted(set(chosen)) if chosen else mine
        scope = cursor_scope_across(projects.user_id, order, filters, chosen)
        if not listed:  # in no project: nothing to ask the database
            if cursor:
                read_cursor(self._cursors, scope, cursor, order)  # still refuses a foreign cursor
            return Page[TaskRead](items=[], next_cursor=None, total=0 if include_total else None)
        keys = {key: project_id for key, project_id in projects.keys.items() if project_id in listed}
        conditions = filter_query(
            listed if len(listed) > 1 else listed[0], filters, projects.user_id, project_keys=keys
        )
        return await self._sorted_page(conditions, scope, order, cursor, limit, include_total)

    async def _sorted_page(
        self,
        conditions: dict[str, Any],
        scope: str,
        order: SortOrder,
        cursor: str | None,
        limit: int,
        include_total: bool,
    ) -> Page[TaskRead]:
        """One page in (field, _id) order from the cursor's position: a range, a limit, never a skip."""
        query = conditions
        if cursor:
            query = {"$and": [conditions, read_cursor(self._cursors, scope, cursor, order)]}
        found = await self._tasks.sorted_page(
            query, [(order.field, order.direction), ("_id", order.direction)], limit + 1
        )
        page = found[:limit]
        next_cursor = None
        if len(found) > limit:
            last = page[-1]
            position = {"v": encode_value(getattr(last, order.field)), "i": str(last.id)}
            next_cursor = self._cursors.encode(scope, position)
        total = await self._tasks.count(conditions) if include_total else None
        return Page[TaskRead](items=await self.read(page), next_cursor=next_cursor, total=total)

    async def _next_number(self, project_id: PydanticObjectId, count: int = 1) -> tuple[int, str]:
        """The next number from the project's counter (the first of `count`), and the project's key."""
        counted = await self._projects.next_task_number(project_id, count)
        if counted is None:
            raise ProjectArchived()
        return counted

    async def _record(
        self,
        task: Task,
        actor: PydanticObjectId,
        verb: ActivityVerb,
        changes: dict[str, list[Any]],
        mentioned: Sequence[PydanticObjectId] = (),
    ) -> None:
        """The change's activity record; `mentioned`: the members it newly mentions (notified)."""
        records = [self._activity_of(task, actor, verb, changes)]
        assert task.id is not None
        await self._activity.record_change(
            records,
            partial(self._generations.bump, task.project_id, [task.id]),
            mentioned={task.id: frozenset(mentioned)} if mentioned else None,
        )

    @staticmethod
    def _activity_of(
        task: Task, actor: PydanticObjectId, verb: ActivityVerb, changes: dict[str, list[Any]]
    ) -> ActivityRecord:
        assert task.id is not None
        return ActivityRecord(
            project_id=task.project_id,
            task_id=task.id,
            actor_id=actor,
            verb=verb,
            target=Target(type="task", id=task.id, key=task.key),
            changes=changes,
        )

    async def _change(
        self,
        task: Task,
        compute: Any,
        *,
        if_match: str | None,
        actor: PydanticObjectId,
        verb: ActivityVerb,
        deleted: bool = False,
    ) -> Task:
        snapshot = task
        for _ in range(_RETRIES):
            check_if_match(if_match, snapshot.etag)
            changes = compute(snapshot)
            if not changes:
                return snapshot
            now = utcnow()
            condition, update = _versioned_update(snapshot, changes, now)
            if await self._tasks.update_if_version(condition, update):
                changed: Task = snapshot.model_copy(
                    update={**changes, "updated_at": now, "version": snapshot.version + 1}
                )
                if "labels" in changes:  # labels it now carries that the overwritten copy did not
                    added = [label for label in changed.labels if label not in snapshot.labels]
                    await self._labels.add_used(changed.project_id, added)
                mentioned = newly_mentioned(snapshot.mentioned_ids, changed.mentioned_ids)
                await self._record(changed, actor, verb, _changes_diff(snapshot, changes), mentioned)
                return changed
            fresh = await self._tasks.by_id(snapshot.id)
            if fresh is None or (fresh.deleted_at is not None) != deleted:
                raise TaskNotFound()
            if if_match is not None:
                raise PreconditionFailed(headers={"ETag": fresh.etag}, current_etag=fresh.etag)
            snapshot = fresh
        raise PreconditionFailed(
            "The task kept changing; read it again and retry.",
            headers={"ETag": snapshot.etag},
            current_etag=snapshot.etag,
        )

    async def _not_applied(self, conditions: list[dict[str, Any]]) -> list[PydanticObjectId]:
        expected = {c["_id"]: c["version"] + 1 for c in conditions}
        current = await self._tasks.versions(list(expected))
        return [task_id for task_id, version in current.items() if version != expected[task_id]]


def _new_task(
    scope: ProjectScope,
    data: TaskCreate,
    number: int,
    project_key: str,
    now: datetime,
    mentioned: list[PydanticObjectId],
) -> Task:
    return Task(
        project_id=scope.project_id,
        number=number,
        key=f"{project_key}-{number}",
        title=data.title,
        description=data.description,
        status=data.status,
        priority=data.priority,
        labels=data.labels,
        assignee_ids=data.assignee_ids,
        due_at=as_utc(data.due_at) if data.due_at else None,
        parent_id=data.parent_id,
        position=data.position if data.position is not None else float(number),
        rank=initial_rank(number),  # last on the board, from the number: no read (ranks.py)
        created_by=scope.user_id,
        created_at=now,
        updated_at=now,
        completed_at=now if data.status is TaskStatus.DONE else None,
        search_terms=search_terms(data.title, data.description, data.labels),
        mentioned_ids=mentioned,
    )


def _created_changes(task: Task) -> dict[str, list[Any]]:
    """A new task's activity: each field it was given, from nothing."""
    return {k: [None, plain(v)] for k in TRACKED_FIELDS if (v := getattr(task, k)) not in (None, "", [])}


def _id(project: Project) -> PydanticObjectId:
    assert project.id is not None
    return project.id


def _check_assignees(members: Collection[PydanticObjectId], assignee_ids: Iterable[PydanticObjectId]) -> None:
    outsiders = [str(a) for a in assignee_ids if a not in members]
    if outsiders:
        message = f"Not members of the project: {', '.join(outsiders)}."
        raise AssigneeNotMember(message, field_errors={"assignee_ids": [message]})


def _changes(task: Task, fields: dict[str, Any]) -> dict[str, Any]:
    """The stored changes for these field values: completion time and search terms follow."""
    changes = {k: v for k, v in fields.items() if getattr(task, k) != v}
    status = changes.get("status")
    if status is not None:
        if status == TaskStatus.DONE:
            changes["completed_at"] = utcnow()
        elif task.status is TaskStatus.DONE:
            changes["completed_at"] = None
    if _TEXT_FIELDS & changes.keys():
        merged = {f: changes.get(f, getattr(task, f)) for f in _TEXT_FIELDS}
        changes["search_terms"] = search_terms(merged["title"], merged["description"], merged["labels"])
    return changes


def _changes_diff(before: Task, changes: dict[str, Any]) -> dict[str, list[Any]]:
    fields = [f for f in (*TRACKED_FIELDS, "deleted_at") if f in changes]
    return diff(before.model_dump(), {**before.model_dump(), **changes}, fields)


def _versioned_update(task: Task, changes: dict[str, Any], now: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    stored = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}
    return (
        {"_id": task.id, "version": task.version},
        {"$set": {**stored, "updated_at": now}, "$inc": {"version": 1}},
    )
