"""The label catalogue: members and above write it, everyone in the project reads it. A label a task
brings is added to it; a rename or a deletion reaches every task of the project that carries the label,
in a bounded number of round trips whatever their number."""

from collections.abc import Iterable
from functools import partial
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from backend.activity.diff import diff
from backend.activity.documents import ActivityRecord, Target
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.core.caching.generations import Generations
from backend.core.http.preconditions import PreconditionFailed, check_if_match
from backend.core.pagination import CursorCodec, InvalidCursor, Page
from backend.core.storage.db import Update
from backend.core.time import utcnow
from backend.labels.documents import Label, default_color, task_label
from backend.labels.errors import LabelExists, LabelNotFound
from backend.labels.repository import LabelledTask, LabelRepository
from backend.labels.schemas import LabelCreate, LabelRead, LabelUpdate
from backend.projects.service import ProjectScope
from backend.tasks.search import search_terms

log = structlog.get_logger(__name__)

_RETRIES = 8
# Passes over the tasks carrying a renamed or deleted label: a pass misses only a task written between
# its read and its write, and the next pass reads just those again.
_PASSES = 3
_SHOWN = ("name", "color", "description")


class LabelService:
    def __init__(self, cursors: CursorCodec, activity: ActivityService, generations: Generations) -> None:
        self._cursors = cursors
        self._activity = activity
        self._generations = generations
        self._labels = LabelRepository()

    async def create(self, scope: ProjectScope, data: LabelCreate) -> Label:
        scope.writable()
        label = Label(
            project_id=scope.project_id,
            name=data.name,
            name_normalized=task_label(data.name),
            color=data.color,
            description=data.description,
        )
        try:
            await self._labels.insert(label)
        except DuplicateKeyError:
            # The name may be held by a deletion that died half-way: finish it, then try once more.
            holder = await self._labels.by_task_label(scope.project_id, label.name_normalized)
            if holder is None or not holder.deleted:
                raise LabelExists() from None
            await self.settle(holder)
            try:
                await self._labels.insert(label)
            except DuplicateKeyError as exc:
                raise LabelExists() from exc
        await self._record(label, scope.user_id, ActivityVerb.LABEL_CREATED, diff({}, _shown(label), _SHOWN))
        return label

    async def get(self, project_id: PydanticObjectId, label_id: PydanticObjectId) -> Label:
        label = await self._labels.by_id(label_id)
        if label is None or label.project_id != project_id:
            raise LabelNotFound()
        if _unsettled(label):
            await self.settle(label)
            return await self.get(project_id, label_id)
        return label

    async def page(
        self, project_id: PydanticObjectId, *, prefix: str | None, cursor: str | None, limit: int
    ) -> Page[LabelRead]:
        """In name order (ignoring case); with a prefix, the labels whose name starts with it."""
        start = task_label(prefix or "")
        scope = f"labels:{project_id}:{start}"
        after = None
        if cursor:
            after = self._cursors.decode(scope, cursor).get("n")
            if not isinstance(after, str):
                raise InvalidCursor()
        found = await self._labels.by_name(project_id, prefix=start, after=after, limit=limit + 1)
        unsettled = [label for label in found if _unsettled(label)]
        if unsettled:  # rare: a request died half-way; finish it, then read the page again
            for label in unsettled:
                await self.settle(label)
            found = await self._labels.by_name(project_id, prefix=start, after=after, limit=limit + 1)
        # A deletion started since is hidden at once; the cursor goes on from the last label read.
        items = [label for label in found[:limit] if not label.deleted]
        next_cursor = None
        if len(found) > limit:
            next_cursor = self._cursors.encode(scope, {"n": found[limit - 1].name_normalized})
        return Page[LabelRead](items=[label_read(label) for label in items], next_cursor=next_cursor)

    async def update(
        self, scope: ProjectScope, label: Label, data: LabelUpdate, *, if_match: str | None
    ) -> Label:
        """A new name is put on the project's tasks that carry the old one (their versions, search
        terms and cached answers follow)."""
        scope.writable()
        fields = data.model_dump(exclude_unset=True)
        snapshot = label
        for _ in range(_RETRIES):
            check_if_match(if_match, snapshot.etag)
            changes = {k: v for k, v in fields.items() if getattr(snapshot, k) != v}
            if not changes:
                return snapshot
            renamed = "name" in changes and task_label(changes["name"]) != snapshot.name_normalized
            if "name" in changes:
                changes["name_normalized"] = task_label(changes["name"])
            if renamed:
                changes["relabel_from"] = snapshot.name_normalized
            try:
                changed = await self._labels.update_if_version(
                    _id(snapshot), snapshot.version, {**changes, "updated_at": utcnow()}
                )
            except DuplicateKeyError as exc:
                raise LabelExists() from exc
            if changed is not None:
                relabelled: list[PydanticObjectId] = []
                if renamed:
                    relabelled = await self._finish_rename(changed, snapshot.name_normalized)
                changes_shown = diff(_shown(snapshot), _shown(changed), _SHOWN)
                await self._record(
                    changed, scope.user_id, ActivityVerb.LABEL_UPDATED, changes_shown, relabelled
                )
                return changed
            snapshot = await self._fresh(snapshot, if_match)
        raise _kept_changing(snapshot)

    async def delete(self, scope: ProjectScope, label: Label, *, if_match: str | None) -> None:
        """The label leaves the catalogue and every task of the project."""
        scope.writable()
        snapshot = label
        for _ in range(_RETRIES):
            check_if_match(if_match, snapshot.etag)
            tombstone = await self._labels.tombstone_if_version(_id(snapshot), snapshot.version)
            if tombstone is not None:
                relabelled = await self._finish_deletion(tombstone)
                changes = diff(_shown(snapshot), {}, _SHOWN)
                await self._record(snapshot, scope.user_id, ActivityVerb.LABEL_DELETED, changes, relabelled)
                return
            snapshot = await self._fresh(snapshot, if_match)
        raise _kept_changing(snapshot)

    async def add_used(self, project_id: PydanticObjectId, labels: Iterable[str]) -> None:
        """Labels a task was just written with join the catalogue if it lacks them, with a colour
        picked by name: one round trip, and none without labels. Called after the task's write (a
        refused write adds nothing; a rename that raced the write is undone for this task by
        re-adding the name it wrote) and before its generation bump, which ends the cached answers
        (the project's lists, this one's too)."""
        now = utcnow()
        missing = [
            Label(
                id=PydanticObjectId(),
                project_id=project_id,
                name=name,
                name_normalized=task_label(name),
                color=default_color(name),
                created_at=now,
                updated_at=now,
            )
            for name in dict.fromkeys(labels)
        ]
        if missing:
            await self._labels.insert_missing(missing)

    async def settle(self, label: Label) -> None:
        """Finishes a rename or a deletion of the label that a request left half-way (it died, or
        the database went away): the tasks follow the catalogue, and every cached answer that could
        show them ends."""
        if label.deleted:
            touched = await self._finish_deletion(label)
        elif label.relabel_from is not None:
            touched = await self._finish_rename(label, label.relabel_from)
        else:
            return
        log.warning("label_change_finished", label_id=str(label.id), tasks=len(touched))
        await self._generations.bump(label.project_id, touched)

    async def _finish_rename(self, label: Label, old: str) -> list[PydanticObjectId]:
        touched = await self._relabel(label.project_id, old, label.name_normalized)
        await self._labels.rename_settled(_id(label), old)
        return touched

    async def _finish_deletion(self, tombstone: Label) -> list[PydanticObjectId]:
        touched = await self._relabel(tombstone.project_id, tombstone.name_normalized, None)
        await self._labels.remove_tombstone(_id(tombstone))
        # A task written with the name after the last pass found the tombstone holding it, so its
        # label did not join the catalogue: it joins now.
        if await self._labels.tasks_labelled(tombstone.project_id, tombstone.name_normalized):
            await self.add_used(tombstone.project_id, [tombstone.name_normalized])
        return touched

    async def _relabel(
        self, project_id: PydanticObjectId, old: str, new: str | None
    ) -> list[PydanticObjectId]:
        """Every task of the project carrying `old` carries `new` in its place (nothing when None):
        a read and a bulk write per pass, one pass unless tasks change meanwhile. Returns the tasks
        written to."""
        touched: dict[PydanticObjectId, None] = {}
        try:
            for _ in range(_PASSES):
                tasks = await self._labels.tasks_labelled(project_id, old)
                if not tasks:
                    return list(touched)
                now = utcnow()
                updates = [_relabelled(task, old, new, now) for task in tasks]
                touched.update(dict.fromkeys(task.id for task in tasks))
                if await self._labels.relabel_tasks(updates) == len(updates):
                    return list(touched)
        except Exception:
            # Failed on the way (the database went away): tasks relabelled by then must not stay
            # served from the cache as they were.
            await self._generations.bump(project_id, touched)
            raise
        # Tasks kept changing under every pass: they still carry `old`, which must then stay known.
        left = await self._labels.tasks_labelled(project_id, old)
        if left:
            log.warning("label_relabel_incomplete", project_id=str(project_id), label=old, tasks=len(left))
            await self.add_used(project_id, [old])
        return list(touched)

    async def _fresh(self, snapshot: Label, if_match: str | None) -> Label:
        """The label again after a conditional write missed: 404 when it is gone, 412 when the
        caller named the version that moved."""
        fresh = await self.get(snapshot.project_id, _id(snapshot))
        if if_match is not None:
            raise PreconditionFailed(headers={"ETag": fresh.etag}, current_etag=fresh.etag)
        return fresh

    async def _record(
        self,
        label: Label,
        actor: PydanticObjectId,
        verb: ActivityVerb,
        changes: dict[str, list[Any]],
        tasks: list[PydanticObjectId] | None = None,
    ) -> None:
        record = ActivityRecord(
            project_id=label.project_id,
            actor_id=actor,
            verb=verb,
            target=Target(type="label", id=_id(label), key=label.name),
            changes=changes,
        )
        # The project's answers (label and task lists) and those of each relabelled task.
        await self._activity.record_change(
            [record], partial(self._generations.bump, label.project_id, tasks or [])
        )


def label_read(label: Label) -> LabelRead:
    return LabelRead(
        id=_id(label),
        project_id=label.project_id,
        name=label.name,
        task_label=label.name_normalized,
        color=label.color,
        description=label.description,
        created_at=label.created_at,
        updated_at=label.updated_at,
    )


def _id(label: Label) -> PydanticObjectId:
    assert label.id is not None
    return label.id


def _unsettled(label: Label) -> bool:
    return label.deleted or label.relabel_from is not None


def _shown(label: Label) -> dict[str, Any]:
    return {name: getattr(label, name) for name in _SHOWN}


def _relabelled(task: LabelledTask, old: str, new: str | None, now: Any) -> Update:
    """The task's update: `old` replaced in place (or dropped), search terms recomputed, the version
    (its ETag) moved on, conditional on the version read."""
    if new is None:
        labels = [label for label in task.labels if label != old]
    else:  # in place; a task that carries the new name already keeps one of it
        labels = list(dict.fromkeys(new if label == old else label for label in task.labels))
    return Update(
        {"_id": task.id, "version": task.version},
        {
            "$set": {
                "labels": labels,
                "search_terms": search_terms(task.title, task.description, labels),
                "updated_at": now,
            },
            "$inc": {"version": 1},
        },
    )


def _kept_changing(label: Label) -> PreconditionFailed:
    return PreconditionFailed(
        "The label kept changing; read it again and retry.",
        headers={"ETag": label.etag},
        current_etag=label.etag,
    )
