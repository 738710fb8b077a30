"""Test data made through the services, as the API would make it, without HTTP.

`await factory.project(owner)`, `factory.member(project, user, "viewer")`, `factory.task(project,
by, labels=[...], assignees=[...], subtasks=2)`, `factory.comment(task, by)`, `factory.token(user)`:
each call goes through the same service method as its route (so search terms, task numbers,
activity and cache generations are what the API would have made), as the given actor (so their
role is checked as the route would). Results are the API's JSON bodies, as dicts.

Values come from per-factory sequences (`Project 1`, key `P1`, `Task 1`, ...) and any field can be
overridden. A factory library (polyfactory, factory_boy) would generate the payloads, but every
field here has domain rules (key patterns, unique keys, members as assignees) that sequences meet
with less code than its overrides would take.
"""

from collections.abc import Sequence
from itertools import count
from typing import Any, Protocol

from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.access.caller import Caller
from backend.auth.dependencies import auth_service
from backend.auth.schemas import TokenCreate
from backend.comments.dependencies import comment_service
from backend.comments.schemas import CommentWrite
from backend.projects.dependencies import project_service, scope_of
from backend.projects.documents import Project, ProjectRole
from backend.projects.schemas import MemberAdd, ProjectCreate
from backend.projects.service import ProjectAccess, read_project
from backend.resources import resources_of
from backend.tasks.dependencies import task_service
from backend.tasks.documents import Task
from backend.tasks.schemas import TaskCreate

Json = dict[str, Any]


class Person(Protocol):
    """Anyone logged in: the plugin's `Actor` (from `users.create()`) is one."""

    id: str
    access_token: str


class Factory:
    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._sequence = count(1)
        self._owners: dict[str, Person] = {}  # who made each project: they add its members

    async def project(
        self, owner: Person, *, members: Sequence[tuple[Person, str]] = (), **fields: Any
    ) -> Json:
        """A project owned by `owner` (an `Actor`), with `members` as (actor, role) pairs."""
        n = next(self._sequence)
        data = ProjectCreate(**{"name": f"Project {n}", "key": f"P{n}", **fields})
        caller = await self._caller(owner)
        project = await project_service(resources_of(self._app)).create(data, owner=caller.user_id)
        made = read_project(project, ProjectRole.OWNER).model_dump(mode="json")
        self._owners[made["id"]] = owner
        for actor, role in members:
            await self.member(made, actor, role)
        return {**made, "member_count": 1 + len(members)}

    async def member(
        self, project: Json, user: Person, role: str = "member", *, by: Person | None = None
    ) -> None:
        """Add `user` with `role`, as `by` (an admin or owner; by default who made the project here)."""
        stored = await self._project(project["id"])
        adder = by or self._owners.get(project["id"])
        assert adder is not None, "say who adds the member: factory.member(project, user, role, by=owner)"
        access = ProjectAccess.decide(await self._caller(adder), stored)
        assert access is not None, "the adding user cannot see the project"
        await project_service(resources_of(self._app)).add_member(
            access, MemberAdd(user_id=user.id, role=ProjectRole(role))
        )

    async def task(
        self,
        project: Json,
        by: Person,
        *,
        assignees: Sequence[Person] = (),
        subtasks: int = 0,
        **fields: Any,
    ) -> Json:
        """A task created by `by` (a member or above), assigned to `assignees` (actors), with
        `subtasks` subtasks; any `TaskCreate` field can be given (labels, status, priority, ...)."""
        stored = await self._project(project["id"])
        n = next(self._sequence)
        values = {"title": f"Task {n}", "assignee_ids": [a.id for a in assignees], **fields}
        tasks = task_service(resources_of(self._app))
        caller = await self._caller(by)
        scope = await scope_of(caller, _id(stored), resources_of(self._app).access_facts, 0)
        assert scope is not None, "the creating user cannot see the project"
        task = await tasks.create(scope, TaskCreate(**values))
        for _ in range(subtasks):
            await tasks.create(
                scope, TaskCreate(title=f"Task {next(self._sequence)}", parent_id=str(task.id))
            )
        (read,) = await tasks.read([await _reloaded(task)])
        return read.model_dump(mode="json")

    async def comment(self, task: Json, by: Person, *, body: str | None = None) -> Json:
        """A comment on `task` (as returned by `task()`) by `by`."""
        stored = await Task.get(PydanticObjectId(task["id"]))
        assert stored is not None
        access = ProjectAccess.decide(await self._caller(by), await self._project(str(stored.project_id)))
        assert access is not None, "the commenting user cannot see the project"
        comments = comment_service(resources_of(self._app))
        comment = await comments.create(
            access, stored, CommentWrite(body=body or f"Comment {next(self._sequence)}")
        )
        (read,) = await comments.read([comment])
        return read.model_dump(mode="json")

    async def token(self, user: Person, *, name: str | None = None) -> str:
        """A personal access token of `user`: its secret, to send as a bearer token."""
        auth = auth_service(resources_of(self._app))
        created = await auth.create_pat(
            PydanticObjectId(user.id), TokenCreate(name=name or f"token {next(self._sequence)}")
        )
        return created.token

    async def _caller(self, actor: Person) -> Caller:
        return await resources_of(self._app).authenticator.caller(actor.access_token)

    async def _project(self, project_id: str) -> Project:
        stored = await Project.get(PydanticObjectId(project_id))
        assert stored is not None, "no such project"
        return stored


def _id(project: Project) -> PydanticObjectId:
    assert project.id is not None
    return project.id


async def _reloaded(task: Task) -> Task:
    found = await Task.get(task.id)
    assert found is not None
    return found
