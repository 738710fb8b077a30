"""Projects and membership rules. Every change is one conditional update of the project document."""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from backend.access.caller import Caller
from backend.access.facts import AccessFacts, MemberMap
from backend.access.policy import ProjectGrant, project_access
from backend.activity.diff import diff
from backend.activity.documents import ActivityRecord, Target
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.core.caching.generations import Generations
from backend.core.caching.reads import KeyScope
from backend.core.http.preconditions import PreconditionFailed, check_if_match
from backend.core.pagination import CursorCodec, Page
from backend.core.time import utcnow
from backend.projects.documents import Member, Project, ProjectRole
from backend.projects.errors import (
    AlreadyMember,
    ConcurrentUpdate,
    InsufficientRole,
    LastOwner,
    MemberLimitReached,
    MemberNotFound,
    ProjectArchived,
    ProjectKeyTaken,
    ProjectNotFound,
    UnknownUser,
)
from backend.projects.repository import ProjectRepository
from backend.projects.schemas import MemberAdd, MemberRead, ProjectCreate, ProjectRead, ProjectUpdate
from backend.users.service import NOBODY, UserService

MAX_MEMBERS = 500
_RETRIES = 8


class _Granted:
    """What both views of a project read from the policy's grant (never derived again)."""

    grant: ProjectGrant

    @property
    def project_id(self) -> PydanticObjectId:
        return self.grant.project_id

    @property
    def caller(self) -> Caller:
        return self.grant.caller

    @property
    def user_id(self) -> PydanticObjectId:
        return self.grant.user_id

    @property
    def role(self) -> ProjectRole | None:
        return self.grant.role

    def require(self, minimum: ProjectRole) -> None:
        self.grant.require(minimum)


@dataclass(frozen=True)
class ProjectAccess(_Granted):
    """A project loaded from MongoDB, with what the policy granted the caller on it (for changes)."""

    project: Project
    grant: ProjectGrant

    @classmethod
    def decide(cls, caller: Caller, project: Project) -> "ProjectAccess | None":
        grant = project_access(caller, MemberMap.of(project))
        return None if grant is None else cls(project, grant)

    @property
    def member_ids(self) -> Collection[PydanticObjectId]:
        return {m.user_id for m in self.project.members}

    def writable(self) -> Project:
        """The project, for changing something in it: members and above, and not archived."""
        self.grant.require_writable()
        return self.project


@dataclass(frozen=True)
class ProjectScope(_Granted, KeyScope):
    """A project as one caller may see it, without loading the project: the policy's grant on the
    project's member map, and the project's data generation (for cache keys)."""

    grant: ProjectGrant
    generation: int
    members: MemberMap

    @property
    def key(self) -> str:
        return self.members.key

    @property
    def member_ids(self) -> Collection[PydanticObjectId]:
        return self.members.roles.keys()

    def key_parts(self) -> list[str]:
        """Cached answers are shared by callers with the same access scope, at one data generation."""
        return [str(self.project_id), self.grant.scope, str(self.generation)]

    def caller_id(self) -> str:
        return str(self.user_id)

    def writable(self) -> None:
        """For changing something in the project: members and above, and not archived."""
        self.grant.require_writable()


@dataclass(frozen=True)
class TaskScope(ProjectScope):
    """One task of a project as a caller may see it: answers about the task alone (its detail, its
    activity) are keyed by the task's generation, so changes elsewhere in the project leave them be.
    The task itself is not loaded: a missing or deleted one is the route's 404 on a miss."""

    task_id: PydanticObjectId

    def key_parts(self) -> list[str]:
        # `generation` is the task's here: the project's would end these answers on every write in it.
        return [str(self.project_id), self.grant.scope, "task", str(self.task_id), str(self.generation)]


@dataclass(frozen=True)
class MemberProjects(KeyScope):
    """Every project a caller is a member of, as the policy grants each, at its data generation: what
    lists across projects (`GET /tasks`) may show. Taken from the access facts (MongoDB's truth, or
    copies trusted only while every change to them is reported), never from Redis: a removed member's
    next list is keyed, and computed, without the project, whatever the cache holds."""

    caller: Caller
    grants: tuple[ProjectGrant, ...]
    members: tuple[MemberMap, ...]
    generations: tuple[int, ...]

    @classmethod
    def of(cls, caller: Caller, maps: Iterable[MemberMap], generations: Iterable[int]) -> "MemberProjects":
        decided = [
            (grant, members, generation)
            for members, generation in zip(maps, generations, strict=True)
            if (grant := project_access(caller, members)) is not None and grant.role is not None
        ]
        return cls(
            caller,
            tuple(g for g, _, _ in decided),
            tuple(m for _, m, _ in decided),
            tuple(n for _, _, n in decided),
        )

    @property
    def user_id(self) -> PydanticObjectId:
        return self.caller.user_id

    @property
    def project_ids(self) -> list[PydanticObjectId]:
        return [grant.project_id for grant in self.grants]

    @property
    def keys(self) -> dict[str, PydanticObjectId]:
        """Project key -> id, for searches naming tasks by key (`WEB-42`)."""
        return {members.key: members.project_id for members in self.members}

    def key_parts(self) -> list[str]:
        """Per caller: the answer is made of their projects, each at its generation, so a write in any
        of them or a change of the projects they are in makes another key."""
        return [
            "member-projects",
            str(self.user_id),
            *(f"{g.project_id}:{g.scope}:{n}" for g, n in zip(self.grants, self.generations, strict=True)),
        ]

    def caller_id(self) -> str:
        return str(self.user_id)


def read_project(project: Project, role: ProjectRole | None) -> ProjectRead:
    assert project.id is not None
    return ProjectRead(
        **project.model_dump(include=set(ProjectRead.model_fields) - {"member_count", "my_role"}),
        member_count=len(project.members),
        my_role=role,
    )


def _stored_member(member: Member) -> dict[str, Any]:
    return {"user_id": member.user_id, "role": member.role.value, "added_at": member.added_at}


class ProjectService:
    def __init__(
        self,
        users: UserService,
        cursors: CursorCodec,
        activity: ActivityService,
        facts: AccessFacts,
        generations: Generations,
    ) -> None:
        self._users = users
        self._cursors = cursors
        self._activity = activity
        self._facts = facts
        self._generations = generations
        self._projects = ProjectRepository()

    async def get(self, project_id: PydanticObjectId) -> Project:
        project = await self._projects.by_id(project_id)
        if project is None:
            raise ProjectNotFound()
        return project

    async def create(self, data: ProjectCreate, *, owner: PydanticObjectId) -> Project:
        project = Project(
            key=data.key,
            name=data.name,
            description=data.description,
            members=[Member(user_id=owner, role=ProjectRole.OWNER)],
            created_by=owner,
        )
        try:
            await self._projects.insert(project)
        except DuplicateKeyError as exc:
            raise ProjectKeyTaken(f"The key {data.key} is taken.") from exc
        self._facts.forget_project(_id(project))  # the owner's lists across projects show it at once
        await self._activity.record(
            project_id=_id(project),
            actor_id=owner,
            verb=ActivityVerb.PROJECT_CREATED,
            target=_project_target(project),
            changes=diff({}, project.model_dump(), ("name", "key", "description")),
        )
        return project

    async def page(
        self,
        user_id: PydanticObjectId,
        *,
        everyone: bool,
        archived: bool,
        cursor: str | None,
        limit: int,
        include_total: bool,
    ) -> Page[ProjectRead]:
        conditions: dict[str, Any] = {"archived": archived}
        if not everyone:
            conditions["members.user_id"] = user_id
        scope = f"projects:{int(everyone)}:{int(archived)}"
        query = conditions
        if cursor:
            position = self._cursors.decode(scope, cursor)
            query = {**conditions, "_id": {"$lt": PydanticObjectId(position.get("i"))}}
        found = await self._projects.newest_first(query, limit + 1)
        items = found[:limit]
        next_cursor = self._cursors.encode(scope, {"i": str(items[-1].id)}) if len(found) > limit else None
        total = await self._projects.count(conditions) if include_total else None
        return Page[ProjectRead](
            items=[read_project(p, p.role_of(user_id)) for p in items], next_cursor=next_cursor, total=total
        )

    async def update(self, access: ProjectAccess, data: ProjectUpdate, *, if_match: str | None) -> Project:
        fields = data.model_dump(exclude_none=True)
        return await self._change(
            access,
            ProjectRole.ADMIN,
            lambda project, _: {k: v for k, v in fields.items() if getattr(project, k) != v},
            if_match=if_match,
            verb=ActivityVerb.PROJECT_UPDATED,
            describe=lambda before, after: (_project_target(after), _fields_diff(before, after, fields)),
        )

    async def archive(self, access: ProjectAccess, *, if_match: str | None) -> Project:
        return await self._change(
            access,
            ProjectRole.OWNER,
            lambda _, __: {"archived": True, "archived_at": utcnow()},
            if_match=if_match,
            verb=ActivityVerb.PROJECT_ARCHIVED,
            describe=lambda before, after: (
                _project_target(after),
                _fields_diff(before, after, ["archived"]),
            ),
        )

    async def restore(self, access: ProjectAccess) -> Project:
        access.require(ProjectRole.OWNER)
        if not access.project.archived:
            return access.project
        return await self._change(
            access,
            ProjectRole.OWNER,
            lambda _, __: {"archived": False, "archived_at": None},
            if_match=None,
            allow_archived=True,
            verb=ActivityVerb.PROJECT_RESTORED,
            describe=lambda before, after: (
                _project_target(after),
                _fields_diff(before, after, ["archived"]),
            ),
        )

    async def members(self, project: Project, *, cursor: str | None, limit: int) -> Page[MemberRead]:
        """Members by join date; names come from one batched query for the page."""
        ordered = sorted(project.members, key=lambda m: (m.added_at, str(m.user_id)))
        scope = f"members:{project.id}"
        if cursor:
            position = self._cursors.decode(scope, cursor)
            last = (str(position.get("a")), str(position.get("u")))
            ordered = [m for m in ordered if (m.added_at.isoformat(), str(m.user_id)) > last]
        page = ordered[:limit]
        people = await self._users.people({m.user_id for m in page})
        next_cursor = None
        if len(ordered) > limit:
            last_member = page[-1]
            next_cursor = self._cursors.encode(
                scope, {"a": last_member.added_at.isoformat(), "u": str(last_member.user_id)}
            )
        items = [
            MemberRead(
                user_id=m.user_id,
                display_name=people.get(m.user_id, NOBODY).display_name,
                handle=people.get(m.user_id, NOBODY).handle,
                role=m.role,
                added_at=m.added_at,
            )
            for m in page
        ]
        return Page[MemberRead](items=items, next_cursor=next_cursor)

    async def member(self, project: Project, user_id: PydanticObjectId) -> MemberRead:
        found = next((m for m in project.members if m.user_id == user_id), None)
        if found is None:
            raise MemberNotFound()
        person = (await self._users.people({user_id})).get(user_id, NOBODY)
        return MemberRead(
            user_id=user_id,
            display_name=person.display_name,
            handle=person.handle,
            role=found.role,
            added_at=found.added_at,
        )

    async def add_member(self, access: ProjectAccess, data: MemberAdd) -> tuple[Project, PydanticObjectId]:
        access.require(ProjectRole.ADMIN)
        _check_may_grant(access.role, data.role)
        user = await (self._users.find_by_email(data.email) if data.email else self._users.find(data.user_id))
        if user is None or user.disabled or user.id is None:
            raise UnknownUser()
        new_user_id = user.id

        def add(project: Project, actor_role: ProjectRole) -> dict[str, Any]:
            _check_may_grant(actor_role, data.role)
            if project.role_of(new_user_id) is not None:
                raise AlreadyMember()
            if len(project.members) >= MAX_MEMBERS:
                raise MemberLimitReached()
            return {"members": [*project.members, Member(user_id=new_user_id, role=data.role)]}

        project = await self._change(
            access,
            ProjectRole.ADMIN,
            add,
            if_match=None,
            verb=ActivityVerb.MEMBER_ADDED,
            describe=lambda before, after: _member_change(new_user_id, before, after),
        )
        return project, new_user_id

    async def change_role(
        self, access: ProjectAccess, target: PydanticObjectId, role: ProjectRole
    ) -> Project:
        def change(project: Project, actor_role: ProjectRole) -> dict[str, Any]:
            current = project.role_of(target)
            if current is None:
                raise MemberNotFound()
            _check_may_grant(actor_role, role)
            _check_may_grant(actor_role, current)
            if current is role:
                return {}
            if current is ProjectRole.OWNER and role is not ProjectRole.OWNER:
                _check_not_last_owner(project, target)
            members = [
                m.model_copy(update={"role": role}) if m.user_id == target else m for m in project.members
            ]
            return {"members": members}

        return await self._change(
            access,
            ProjectRole.ADMIN,
            change,
            if_match=None,
            verb=ActivityVerb.MEMBER_UPDATED,
            describe=lambda before, after: _member_change(target, before, after),
        )

    async def remove_member(self, access: ProjectAccess, target: PydanticObjectId) -> Project:
        leaving = target == access.user_id

        def remove(project: Project, actor_role: ProjectRole) -> dict[str, Any]:
            current = project.role_of(target)
            if current is None:
                raise MemberNotFound()
            if not leaving:
                _check_may_grant(actor_role, current)
            if current is ProjectRole.OWNER:
                _check_not_last_owner(project, target)
            return {"members": [m for m in project.members if m.user_id != target]}

        # Anyone may leave; removing someone else takes a project admin.
        minimum = ProjectRole.VIEWER if leaving else ProjectRole.ADMIN
        return await self._change(
            access,
            minimum,
            remove,
            if_match=None,
            verb=ActivityVerb.MEMBER_REMOVED,
            describe=lambda before, after: _member_change(target, before, after),
        )

    async def _change(
        self,
        access: ProjectAccess,
        minimum: ProjectRole,
        compute: Callable[[Project, ProjectRole], dict[str, Any]],
        *,
        if_match: str | None,
        verb: ActivityVerb,
        describe: Callable[[Project, Project], tuple[Target, dict[str, list[Any]]]],
        allow_archived: bool = False,
    ) -> Project:
        """Apply `compute(snapshot, actor_role)` if the snapshot is still current, re-reading on a race.

        The caller's role is checked against each snapshot, so a role lost meanwhile is never used.
        With If-Match the caller asked for one specific version: a race is a failed precondition.
        """
        snapshot = access.project
        for _ in range(_RETRIES):
            # The policy again, on this snapshot: a role lost meanwhile is never used.
            current = ProjectAccess.decide(access.caller, snapshot)
            if current is None:
                raise ProjectNotFound()
            current.require(minimum)
            actor_role = current.role
            assert actor_role is not None
            check_if_match(if_match, snapshot.etag)
            if snapshot.archived and not allow_archived:
                raise ProjectArchived()
            changes = compute(snapshot, actor_role)
            if not changes:
                return snapshot
            stored = {k: [_stored_member(m) for m in v] if k == "members" else v for k, v in changes.items()}
            now = utcnow()
            try:
                applied = await self._projects.set_if_version(
                    _id(snapshot), snapshot.version, {**stored, "updated_at": now}
                )
            finally:
                self._facts.forget_project(_id(snapshot))
            if applied:
                changed: Project = snapshot.model_copy(
                    update={**changes, "updated_at": now, "version": snapshot.version + 1}
                )
                target, described = describe(snapshot, changed)
                record = ActivityRecord(
                    project_id=_id(changed),
                    actor_id=access.user_id,
                    verb=verb,
                    target=target,
                    changes=described,
                )
                await self._activity.record_change([record], partial(self._generations.bump, _id(changed)))
                return changed
            fresh = await self._projects.by_id(_id(snapshot))
            if fresh is None:
                raise ConcurrentUpdate("The project was removed meanwhile.")
            if if_match is not None:
                raise PreconditionFailed(headers={"ETag": fresh.etag}, current_etag=fresh.etag)
            snapshot = fresh
        raise ConcurrentUpdate()


def _check_may_grant(actor_role: ProjectRole | None, role: ProjectRole) -> None:
    """Admins manage roles up to admin; only owners grant, revoke or remove the owner role."""
    if role is ProjectRole.OWNER and actor_role is not ProjectRole.OWNER:
        raise InsufficientRole("Only owners grant, revoke or remove the owner role.")


def _check_not_last_owner(project: Project, leaving: PydanticObjectId) -> None:
    if not any(m.role is ProjectRole.OWNER and m.user_id != leaving for m in project.members):
        raise LastOwner()


def _id(project: Project) -> PydanticObjectId:
    assert project.id is not None
    return project.id


def _project_target(project: Project) -> Target:
    return Target(type="project", id=_id(project), key=project.key)


def _fields_diff(before: Project, after: Project, fields: Iterable[str]) -> dict[str, list[Any]]:
    return diff(before.model_dump(), after.model_dump(), fields)


def _member_change(
    user_id: PydanticObjectId, before: Project, after: Project
) -> tuple[Target, dict[str, list[Any]]]:
    old, new = before.role_of(user_id), after.role_of(user_id)
    return Target(type="member", id=user_id), diff({"role": old}, {"role": new}, ["role"])
