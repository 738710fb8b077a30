"""Watchers and notifications: who hears of a change, once each, and what a reader may still see.

`notify` is the entry point: the activity records of stored changes, each with the people it
mentions (`Change`). Activity calls it for every change it records (backend/activity/service.py), so
task and comment services need not know of notifications. Whatever a change's size, it costs at
most three round trips: the watchers of its tasks, the new watches, the notifications (one
insert_many each).

Who may read a notification is decided when it is read, by the one access policy on the project's
member map as it is then (list, unread count and stream alike): someone removed from a project stops
seeing its notifications at once, and sees them again if added back.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from backend.access.caller import Caller
from backend.access.facts import AccessFacts
from backend.access.policy import MANAGES_WEBHOOKS, project_access
from backend.activity.documents import ActivityRecord
from backend.activity.verbs import ActivityVerb
from backend.core.pagination import CursorCodec, Page
from backend.core.time import utcnow
from backend.notifications.documents import Notification, NotificationKind, TaskWatcher
from backend.notifications.events import READ_MARK, UserEvents
from backend.notifications.repository import NotificationRepository, WatcherRepository
from backend.notifications.schemas import NotificationRead, PersonSummary, WatcherRead
from backend.projects.documents import ProjectRole
from backend.users.service import NOBODY, Person, UserService

UserId = PydanticObjectId
# The strongest reason first: one change gives each person one notification, for its strongest reason.
_STRENGTH = {kind: rank for rank, kind in enumerate(NotificationKind)}


@dataclass(frozen=True)
class Change:
    """A stored change, as its activity record says, and the people it mentions (user ids already
    resolved to members by the caller)."""

    record: ActivityRecord
    mentioned: frozenset[UserId] = frozenset()


@dataclass
class _Plan:
    """What one change means for people: who starts watching, who is told directly, and what its
    task's watchers are told."""

    record: ActivityRecord
    watch: set[UserId] = field(default_factory=set)
    direct: dict[UserId, NotificationKind] = field(default_factory=dict)
    to_watchers: NotificationKind | None = None
    to_admins: NotificationKind | None = None  # the project's admins and owners, whoever acted

    def tell(self, user_id: UserId, kind: NotificationKind) -> None:
        known = self.direct.get(user_id)
        if known is None or _STRENGTH[kind] < _STRENGTH[known]:
            self.direct[user_id] = kind


def _ids(values: object) -> set[UserId]:
    if not isinstance(values, list):
        return set()
    return {PydanticObjectId(v) for v in values if isinstance(v, str) and PydanticObjectId.is_valid(v)}


def _plan(change: Change) -> _Plan | None:
    """What the change means for people, or None when it means nothing to anyone."""
    record = change.record
    if record.verb == ActivityVerb.WEBHOOK_DISABLED:
        return _Plan(record, to_admins=NotificationKind.WEBHOOK_DISABLED)
    if record.task_id is None:
        return None
    plan = _Plan(record)
    if record.verb == ActivityVerb.TASK_CREATED:
        plan.watch.add(record.actor_id)
        for assignee in _ids(record.changes.get("assignee_ids", [None, []])[1]):
            plan.tell(assignee, NotificationKind.ASSIGNED)
    elif record.verb == ActivityVerb.TASK_UPDATED:
        if "assignee_ids" in record.changes:
            old, new = record.changes["assignee_ids"]
            for assignee in _ids(new) - _ids(old):
                plan.tell(assignee, NotificationKind.ASSIGNED)
        if "status" in record.changes:
            plan.to_watchers = NotificationKind.STATUS_CHANGED
    elif record.verb == ActivityVerb.COMMENT_CREATED:
        plan.watch.add(record.actor_id)
        plan.to_watchers = NotificationKind.COMMENTED
    for person in change.mentioned:
        plan.tell(person, NotificationKind.MENTIONED)
    plan.watch |= plan.direct.keys()  # the assigned and the mentioned watch from now on
    if not plan.watch and plan.to_watchers is None:
        return None
    return plan


class NotificationService:
    RESUME_LIMIT = 1000

    def __init__(
        self, users: UserService, facts: AccessFacts, cursors: CursorCodec, events: UserEvents
    ) -> None:
        self._users = users
        self._facts = facts
        self._cursors = cursors
        self._events = events
        self._watchers = WatcherRepository()
        self._notifications = NotificationRepository()

    # -- writing: the entry point --

    async def notify(self, changes: Sequence[Change]) -> list[Notification]:
        """Tell people of stored changes, at most once per person and change, never the actor, and
        only the project's current members; make the actors, the assigned and the mentioned
        watchers. Three round trips at most, whatever the number of changes and people."""
        plans = [plan for change in changes if (plan := _plan(change)) is not None]
        if not plans:
            return []
        members = {
            project_id: await self._member_ids(project_id)
            for project_id in {p.record.project_id for p in plans}
        }
        # A task created by this change has no watchers yet: no need to ask.
        asked = {p.record.task_id for p in plans if p.record.verb != ActivityVerb.TASK_CREATED}
        watching: dict[PydanticObjectId, set[UserId]] = {}
        for watcher in await self._watchers.watchers_of({t for t in asked if t is not None}):
            watching.setdefault(watcher.task_id, set()).add(watcher.user_id)

        new_watches: dict[tuple[PydanticObjectId, UserId], TaskWatcher] = {}
        notifications: list[Notification] = []
        for plan in plans:
            record = plan.record
            assert record.id is not None
            allowed = members[record.project_id]
            if plan.to_admins is not None:
                notifications += _to_admins(record, plan.to_admins, allowed)
                continue
            assert record.task_id is not None
            present = watching.setdefault(record.task_id, set())
            to_watchers = plan.to_watchers
            told = {person: to_watchers for person in present if to_watchers is not None}
            for person, kind in plan.direct.items():
                if person not in told or _STRENGTH[kind] < _STRENGTH[told[person]]:
                    told[person] = kind
            for person in plan.watch - present:
                if person in allowed and (record.task_id, person) not in new_watches:
                    new_watches[(record.task_id, person)] = TaskWatcher(
                        id=PydanticObjectId(),
                        project_id=record.project_id,
                        task_id=record.task_id,
                        user_id=person,
                        created_at=record.created_at,
                    )
            present |= plan.watch & allowed.keys()
            comment_id = record.target.id if record.target.type == "comment" else None
            notifications += [
                Notification(
                    id=PydanticObjectId(),
                    user_id=person,
                    project_id=record.project_id,
                    task_id=record.task_id,
                    task_key=record.target.key,
                    kind=kind,
                    actor_id=record.actor_id,
                    activity_id=record.id,
                    comment_id=comment_id,
                    created_at=record.created_at,
                )
                for person, kind in sorted(told.items())
                if person != record.actor_id and person in allowed
            ]
        await self._watchers.add_missing(list(new_watches.values()))
        await self._notifications.insert_many(notifications)
        await self._announce(notifications)
        return notifications

    async def heard(
        self, records: Sequence[ActivityRecord], mentioned: Mapping[PydanticObjectId, frozenset[UserId]]
    ) -> None:
        """Activity's listener: the records of one call, with the people mentioned per task."""
        await self.notify(
            [Change(r, mentioned.get(r.task_id, frozenset()) if r.task_id else frozenset()) for r in records]
        )

    async def _member_ids(self, project_id: PydanticObjectId) -> Mapping[UserId, ProjectRole]:
        members = await self._facts.member_map(project_id)  # the process's copy, mostly: no round trip
        return {} if members is None else members.roles

    async def announce(self, notifications: list[Notification]) -> None:
        """Tell the streams of notifications written elsewhere (the reminder job)."""
        await self._announce(notifications)

    async def _announce(self, notifications: list[Notification]) -> None:
        messages: dict[UserId, list[dict[str, Any]]] = {}
        for notification, read in zip(notifications, await self.read(notifications), strict=True):
            messages.setdefault(notification.user_id, []).append(
                {"notification": read.model_dump(mode="json")}
            )
        await self._events.publish(messages)

    # -- watchers --

    async def watch(self, project_id: PydanticObjectId, task_id: PydanticObjectId, user_id: UserId) -> None:
        await self._watchers.add_missing(
            [TaskWatcher(id=PydanticObjectId(), project_id=project_id, task_id=task_id, user_id=user_id)]
        )

    async def unwatch(self, task_id: PydanticObjectId, user_id: UserId) -> None:
        await self._watchers.remove(task_id, user_id)

    async def watchers(
        self,
        project_id: PydanticObjectId,
        task_id: PydanticObjectId,
        members: Collection[UserId],
        *,
        cursor: str | None,
        limit: int,
    ) -> Page[WatcherRead]:
        """Oldest first; someone no longer a member is left out (a page may hold fewer than `limit`)."""
        found, next_cursor = await self._watchers.oldest_first(
            project_id, task_id, codec=self._cursors, cursor=cursor, limit=limit
        )
        shown = [w for w in found if w.user_id in members]
        people = await self._users.people({w.user_id for w in shown})
        items = [
            WatcherRead(
                user=_summary(w.user_id, people),
                created_at=w.created_at,
            )
            for w in shown
        ]
        return Page[WatcherRead](items=items, next_cursor=next_cursor)

    # -- reading: the policy decides, at read time --

    async def visible_projects(
        self, caller: Caller, project_ids: Iterable[PydanticObjectId]
    ) -> set[PydanticObjectId]:
        """Of these projects, those the caller may see now (the one policy, on the member maps: the
        process's copies, and those it lacks in one query)."""
        maps = await self._facts.member_maps(set(project_ids))
        return {
            project_id
            for project_id, members in maps.items()
            if members is not None and project_access(caller, members) is not None
        }

    async def unread_anywhere(self, caller: Caller) -> dict[PydanticObjectId, int]:
        """The caller's unread counts per project, also of projects they may not see now (a stream
        keeps them, to count them again when access comes back): one round trip."""
        return await self._notifications.unread_by_project(caller.user_id)

    async def visible_counts(
        self, caller: Caller, counts: Mapping[PydanticObjectId, int]
    ) -> dict[PydanticObjectId, int]:
        """Of these per-project counts, those of the projects the caller may see now."""
        visible = await self.visible_projects(caller, counts)
        return {p: n for p, n in counts.items() if p in visible}

    async def unread_by_project(self, caller: Caller) -> dict[PydanticObjectId, int]:
        """The caller's unread counts per project, of the projects they may see now: one round trip
        (the member maps are the process's copies)."""
        return await self.visible_counts(caller, await self.unread_anywhere(caller))

    async def unread_count(self, caller: Caller) -> int:
        return sum((await self.unread_by_project(caller)).values())

    async def page(
        self, caller: Caller, *, unread: bool, cursor: str | None, limit: int
    ) -> Page[NotificationRead]:
        """Newest first, of the projects the caller may see now."""
        if unread:
            projects: Collection[PydanticObjectId] = (await self.unread_by_project(caller)).keys()
        else:
            projects = await self.visible_projects(
                caller, await self._notifications.projects_of(caller.user_id)
            )
        if not projects:
            return Page[NotificationRead](items=[], next_cursor=None)
        items, next_cursor = await self._notifications.newest_first(
            caller.user_id, projects, unread=unread, codec=self._cursors, cursor=cursor, limit=limit
        )
        return Page[NotificationRead](items=await self.read(items), next_cursor=next_cursor)

    async def since(self, caller: Caller, last_id: PydanticObjectId) -> list[Notification]:
        """The caller's notifications after `last_id`, oldest first (for resuming a stream), of the
        projects they may see now."""
        last = await self._notifications.by_id(last_id)
        if last is None or last.user_id != caller.user_id:
            return []
        later = await self._notifications.after(last, self.RESUME_LIMIT)
        visible = await self.visible_projects(caller, {n.project_id for n in later})
        return [n for n in later if n.project_id in visible]

    async def mark_read(
        self, caller: Caller, *, ids: Collection[PydanticObjectId], up_to: datetime | None
    ) -> int:
        """Marks the caller's notifications read, of the projects they may see now only (one they
        cannot see was never shown to them, so is not read: it comes back unread if they are added
        back); their streams hear of the new count. Returns it."""
        counts = await self.unread_by_project(caller)  # only projects with unread ones matter
        marked = await self._notifications.mark_read(
            caller.user_id, project_ids=counts.keys(), ids=ids, up_to=up_to, now=utcnow()
        )
        if not marked:
            return sum(counts.values())
        await self._events.publish({caller.user_id: [READ_MARK]})
        return await self.unread_count(caller)

    async def read(self, notifications: list[Notification]) -> list[NotificationRead]:
        people = await self._users.people({n.actor_id for n in notifications if n.actor_id is not None})
        return [
            NotificationRead(
                id=n.id,
                kind=n.kind,
                project_id=n.project_id,
                task_id=n.task_id,
                task_key=n.task_key,
                webhook_id=n.webhook_id,
                comment_id=n.comment_id,
                activity_id=n.activity_id,
                actor=None if n.actor_id is None else _summary(n.actor_id, people),
                due_at=n.due_at,
                created_at=n.created_at,
                read_at=n.read_at,
            )
            for n in notifications
        ]


def _to_admins(
    record: ActivityRecord, kind: NotificationKind, members: Mapping[UserId, ProjectRole]
) -> list[Notification]:
    """The server's own act on the project (a webhook disabled), told to its admins and owners: the
    record's actor (the webhook's creator) did nothing this time, so they are told too."""
    return [
        Notification(
            id=PydanticObjectId(),
            user_id=person,
            project_id=record.project_id,
            task_id=None,
            webhook_id=record.target.id,
            kind=kind,
            actor_id=None,
            activity_id=record.id,
            created_at=record.created_at,
        )
        for person, role in sorted(members.items())
        if role.at_least(MANAGES_WEBHOOKS)
    ]


def _summary(user_id: UserId, people: Mapping[UserId, Person]) -> PersonSummary:
    person = people.get(user_id, NOBODY)
    return PersonSummary(id=user_id, display_name=person.display_name, handle=person.handle)
