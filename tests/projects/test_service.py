"""ProjectService, called directly: projects, membership rules, optimistic updates, cache generations."""

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.activity.dependencies import activity_service
from backend.activity.schemas import ActivityRead
from backend.activity.verbs import ActivityVerb
from backend.auth.dependencies import auth_service
from backend.core.http.preconditions import PreconditionFailed
from backend.core.pagination import InvalidCursor
from backend.projects.dependencies import project_service
from backend.projects.documents import Project, ProjectRole
from backend.projects.errors import (
    AlreadyMember,
    InsufficientRole,
    LastOwner,
    MemberNotFound,
    ProjectArchived,
    ProjectKeyTaken,
    ProjectNotFound,
    UnknownUser,
)
from backend.projects.schemas import MemberAdd, ProjectCreate, ProjectUpdate
from backend.projects.service import ProjectAccess, ProjectService
from backend.resources import resources_of
from backend.testing import DEFAULT_PASSWORD
from backend.testing.factories import Factory, Person
from backend.users.dependencies import user_service
from backend.users.schemas import UserAdminUpdate, UserRegister


@dataclass
class Staff:
    """Someone signed in: a `Person` to the factory."""

    id: str
    email: str
    access_token: str


@dataclass
class Crew:
    """Like the plugin's `team` (project WEB, one user in each role and an outsider), made through
    the services rather than HTTP: a third of the set-up time."""

    owner: Staff
    admin: Staff
    member: Staff
    viewer: Staff
    outsider: Staff
    project: dict[str, Any]


async def person(app: FastAPI, name: str, *, email: str | None = None) -> Staff:
    email = email or f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    resources = resources_of(app)
    user = await user_service(resources).register(
        UserRegister(email=email, password=DEFAULT_PASSWORD, display_name=name)
    )
    pair = await auth_service(resources).login(email, DEFAULT_PASSWORD, client_ip="127.0.0.1", user_agent="")
    return Staff(str(user.id), email, pair.access_token)


@pytest_asyncio.fixture
async def crew(app: FastAPI, factory: Factory) -> Crew:
    owner, admin, member, viewer, outsider = [
        await person(app, name) for name in ("Olive", "Ada", "Max", "Vic", "Otto")
    ]
    project = await factory.project(
        owner, members=[(admin, "admin"), (member, "member"), (viewer, "viewer")], name="Website", key="WEB"
    )
    return Crew(owner, admin, member, viewer, outsider, project)


@pytest.fixture
def service(app: FastAPI) -> ProjectService:
    return project_service(resources_of(app))


def pid(crew: Crew) -> PydanticObjectId:
    return PydanticObjectId(crew.project["id"])


def uid(who: Person) -> PydanticObjectId:
    return PydanticObjectId(who.id)


async def stored(app: FastAPI, project_id: PydanticObjectId) -> Project:
    """The project as stored now, read again through the service."""
    return await project_service(resources_of(app)).get(project_id)


async def version(app: FastAPI, project_id: PydanticObjectId) -> int:
    return (await stored(app, project_id)).version


async def access(app: FastAPI, who: Person, project_id: PydanticObjectId) -> ProjectAccess:
    """Their access to the project as stored now (as the routes decide it)."""
    caller = await resources_of(app).authenticator.caller(who.access_token)
    decided = ProjectAccess.decide(caller, await stored(app, project_id))
    assert decided is not None, "this person cannot see the project"
    return decided


async def generation(app: FastAPI, project_id: PydanticObjectId) -> int:
    current = await resources_of(app).stores.generations.current(project_id)
    assert current is not None
    return current


async def activity(app: FastAPI, project_id: PydanticObjectId, verb: ActivityVerb) -> list[ActivityRead]:
    page = await activity_service(resources_of(app)).page(
        project_id, verbs=[verb], actor_id=None, cursor=None, limit=50
    )
    return page.items


def roles(project: Project) -> dict[PydanticObjectId, ProjectRole]:
    return {m.user_id: m.role for m in project.members}


class TestCreate:
    async def test_the_creator_is_the_only_owner(self, app: FastAPI, service: ProjectService) -> None:
        alice = await person(app, "Alice")

        project = await service.create(
            ProjectCreate(name=" Shop ", key="shop", description="All things sold"), owner=uid(alice)
        )

        assert project.id is not None
        again = await stored(app, project.id)
        assert (again.key, again.name, again.description) == ("SHOP", "Shop", "All things sold")
        assert roles(again) == {uid(alice): ProjectRole.OWNER}
        assert (again.created_by, again.version, again.archived) == (uid(alice), 1, False)
        (created,) = await activity(app, project.id, ActivityVerb.PROJECT_CREATED)
        assert created.actor.id == uid(alice)
        assert created.changes.key == (None, "SHOP")
        assert created.changes.name == (None, "Shop")

    async def test_a_key_taken_in_any_case_is_refused(self, app: FastAPI, service: ProjectService) -> None:
        alice, bob = await person(app, "Alice"), await person(app, "Bob")
        await service.create(ProjectCreate(name="First", key="WEB"), owner=uid(alice))

        with pytest.raises(ProjectKeyTaken):
            await service.create(ProjectCreate(name="Second", key="web"), owner=uid(bob))

        page = await service.page(
            uid(bob), everyone=False, archived=False, cursor=None, limit=10, include_total=True
        )
        assert page.total == 0


class TestGet:
    async def test_returns_the_stored_project(self, service: ProjectService, crew: Crew) -> None:
        project = await service.get(pid(crew))

        assert (project.id, project.key, project.name) == (pid(crew), "WEB", "Website")
        assert roles(project) == {
            uid(crew.owner): ProjectRole.OWNER,
            uid(crew.admin): ProjectRole.ADMIN,
            uid(crew.member): ProjectRole.MEMBER,
            uid(crew.viewer): ProjectRole.VIEWER,
        }

    async def test_unknown_id_is_project_not_found(self, service: ProjectService, crew: Crew) -> None:
        with pytest.raises(ProjectNotFound):
            await service.get(PydanticObjectId())


class TestPage:
    async def test_lists_my_projects_newest_first_with_my_role(
        self, service: ProjectService, crew: Crew, factory: Factory
    ) -> None:
        newer = await factory.project(crew.viewer)
        await factory.project(crew.outsider)

        page = await service.page(
            uid(crew.viewer), everyone=False, archived=False, cursor=None, limit=10, include_total=True
        )

        assert [(p.key, p.my_role) for p in page.items] == [
            (newer["key"], ProjectRole.OWNER),
            ("WEB", ProjectRole.VIEWER),
        ]
        assert page.items[1].member_count == 4
        assert (page.total, page.next_cursor) == (2, None)

    async def test_everyone_pages_through_all_projects(
        self, app: FastAPI, service: ProjectService, factory: Factory
    ) -> None:
        alice, bob = await person(app, "Alice"), await person(app, "Bob")
        made = [(await factory.project(owner))["key"] for owner in (alice, bob, alice, bob, alice)]

        seen: list[str] = []
        cursor: str | None = None
        for _ in range(len(made)):
            page = await service.page(
                uid(alice), everyone=True, archived=False, cursor=cursor, limit=2, include_total=True
            )
            assert page.total == 5
            seen += [p.key for p in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break

        assert seen == made[::-1]

    async def test_archived_projects_are_listed_apart(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)

        live = await service.page(
            uid(crew.member), everyone=False, archived=False, cursor=None, limit=10, include_total=True
        )
        archived = await service.page(
            uid(crew.member), everyone=False, archived=True, cursor=None, limit=10, include_total=True
        )

        assert (live.items, live.total) == ([], 0)
        assert [p.key for p in archived.items] == ["WEB"]

    async def test_a_cursor_of_another_list_is_refused(
        self, app: FastAPI, service: ProjectService, factory: Factory
    ) -> None:
        alice = await person(app, "Alice")
        for _ in range(3):
            await factory.project(alice)
        mine = await service.page(
            uid(alice), everyone=False, archived=False, cursor=None, limit=1, include_total=False
        )
        assert mine.next_cursor is not None

        with pytest.raises(InvalidCursor):
            await service.page(
                uid(alice),
                everyone=True,
                archived=False,
                cursor=mine.next_cursor,
                limit=1,
                include_total=False,
            )


class TestUpdate:
    async def test_an_admin_changes_fields_and_the_generation_moves_on(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        before, base = await generation(app, pid(crew)), await version(app, pid(crew))

        updated = await service.update(
            await access(app, crew.admin, pid(crew)), ProjectUpdate(name="Web shop"), if_match=None
        )

        assert (updated.name, updated.version) == ("Web shop", base + 1)
        again = await stored(app, pid(crew))
        assert (again.name, again.version, again.description) == ("Web shop", base + 1, "")
        assert await generation(app, pid(crew)) > before
        (record,) = await activity(app, pid(crew), ActivityVerb.PROJECT_UPDATED)
        assert (record.actor.id, record.changes.name) == (uid(crew.admin), ("Website", "Web shop"))

    async def test_a_member_may_not(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        before = await generation(app, pid(crew))

        with pytest.raises(InsufficientRole):
            await service.update(
                await access(app, crew.member, pid(crew)), ProjectUpdate(name="Mine"), if_match=None
            )

        assert (await stored(app, pid(crew))).name == "Website"
        assert await generation(app, pid(crew)) == before

    async def test_if_match_must_name_the_current_version(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        base = await version(app, pid(crew))

        with pytest.raises(PreconditionFailed) as failed:
            await service.update(
                await access(app, crew.owner, pid(crew)), ProjectUpdate(name="Old"), if_match=f'"v{base + 5}"'
            )
        assert failed.value.extra["current_etag"] == f'"v{base}"'
        assert (await stored(app, pid(crew))).name == "Website"

        updated = await service.update(
            await access(app, crew.owner, pid(crew)), ProjectUpdate(name="Current"), if_match=f'"v{base}"'
        )
        assert updated.etag == f'"v{base + 1}"'

    async def test_if_match_on_a_snapshot_changed_meanwhile_fails(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        stale = await access(app, crew.owner, pid(crew))
        await service.update(
            await access(app, crew.admin, pid(crew)), ProjectUpdate(name="First"), if_match=None
        )

        with pytest.raises(PreconditionFailed) as failed:
            await service.update(stale, ProjectUpdate(name="Second"), if_match=stale.project.etag)

        assert failed.value.extra["current_etag"] == f'"v{stale.project.version + 1}"'
        assert (await stored(app, pid(crew))).name == "First"

    async def test_without_if_match_a_stale_snapshot_is_read_again(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        stale = await access(app, crew.owner, pid(crew))
        await service.update(
            await access(app, crew.admin, pid(crew)), ProjectUpdate(description="By Ada"), if_match=None
        )

        updated = await service.update(stale, ProjectUpdate(name="By Olive"), if_match=None)

        base = stale.project.version
        assert (updated.name, updated.description, updated.version) == ("By Olive", "By Ada", base + 2)
        again = await stored(app, pid(crew))
        assert (again.name, again.description, again.version) == ("By Olive", "By Ada", base + 2)

    async def test_a_role_lost_meanwhile_is_not_used(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        stale = await access(app, crew.admin, pid(crew))
        await service.change_role(
            await access(app, crew.owner, pid(crew)), uid(crew.admin), ProjectRole.VIEWER
        )

        with pytest.raises(InsufficientRole):
            await service.update(stale, ProjectUpdate(name="Too late"), if_match=None)

        assert (await stored(app, pid(crew))).name == "Website"

    async def test_no_change_writes_nothing(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        before, base = await generation(app, pid(crew)), await version(app, pid(crew))

        same = await service.update(
            await access(app, crew.owner, pid(crew)), ProjectUpdate(name="Website"), if_match=None
        )

        assert same.version == base
        assert (await stored(app, pid(crew))).version == base
        assert await generation(app, pid(crew)) == before
        assert await activity(app, pid(crew), ActivityVerb.PROJECT_UPDATED) == []

    async def test_an_archived_project_cannot_change(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)

        with pytest.raises(ProjectArchived):
            await service.update(
                await access(app, crew.owner, pid(crew)), ProjectUpdate(name="Nope"), if_match=None
            )


class TestArchive:
    async def test_the_owner_archives(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        before = await generation(app, pid(crew))

        archived = await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)

        assert archived.archived is True
        again = await stored(app, pid(crew))
        assert again.archived is True
        assert again.archived_at is not None
        assert await generation(app, pid(crew)) > before
        (record,) = await activity(app, pid(crew), ActivityVerb.PROJECT_ARCHIVED)
        assert record.changes.archived == (False, True)

    async def test_an_admin_may_not(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        with pytest.raises(InsufficientRole):
            await service.archive(await access(app, crew.admin, pid(crew)), if_match=None)

        assert (await stored(app, pid(crew))).archived is False

    async def test_archiving_twice_is_refused(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)

        with pytest.raises(ProjectArchived):
            await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)


class TestRestore:
    async def test_the_owner_restores(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)
        before, base = await generation(app, pid(crew)), await version(app, pid(crew))

        restored = await service.restore(await access(app, crew.owner, pid(crew)))

        assert restored.archived is False
        again = await stored(app, pid(crew))
        assert (again.archived, again.archived_at, again.version) == (False, None, base + 1)
        assert await generation(app, pid(crew)) > before
        assert len(await activity(app, pid(crew), ActivityVerb.PROJECT_RESTORED)) == 1

    async def test_restoring_a_live_project_changes_nothing(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        before, base = await generation(app, pid(crew)), await version(app, pid(crew))

        same = await service.restore(await access(app, crew.owner, pid(crew)))

        assert (same.archived, same.version) == (False, base)
        assert await generation(app, pid(crew)) == before
        assert await activity(app, pid(crew), ActivityVerb.PROJECT_RESTORED) == []

    async def test_an_admin_may_not(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)

        with pytest.raises(InsufficientRole):
            await service.restore(await access(app, crew.admin, pid(crew)))

        assert (await stored(app, pid(crew))).archived is True


class TestMembers:
    async def test_pages_members_by_join_date_with_names(self, service: ProjectService, crew: Crew) -> None:
        project = await service.get(pid(crew))

        first = await service.members(project, cursor=None, limit=3)
        assert first.next_cursor is not None
        rest = await service.members(project, cursor=first.next_cursor, limit=3)

        assert [(m.display_name, m.role) for m in first.items + rest.items] == [
            ("Olive", ProjectRole.OWNER),
            ("Ada", ProjectRole.ADMIN),
            ("Max", ProjectRole.MEMBER),
            ("Vic", ProjectRole.VIEWER),
        ]
        assert [m.user_id for m in first.items] == [uid(crew.owner), uid(crew.admin), uid(crew.member)]
        assert rest.next_cursor is None

    async def test_a_cursor_of_another_project_is_refused(
        self, service: ProjectService, crew: Crew, factory: Factory
    ) -> None:
        other = await factory.project(crew.owner, members=[(crew.member, "member")])
        page = await service.members(await service.get(PydanticObjectId(other["id"])), cursor=None, limit=1)
        assert page.next_cursor is not None

        with pytest.raises(InvalidCursor):
            await service.members(await service.get(pid(crew)), cursor=page.next_cursor, limit=1)


class TestMember:
    async def test_one_member_with_name_and_role(self, service: ProjectService, crew: Crew) -> None:
        found = await service.member(await service.get(pid(crew)), uid(crew.viewer))

        assert (found.user_id, found.display_name, found.role) == (
            uid(crew.viewer),
            "Vic",
            ProjectRole.VIEWER,
        )

    async def test_a_non_member_is_not_found(self, service: ProjectService, crew: Crew) -> None:
        with pytest.raises(MemberNotFound):
            await service.member(await service.get(pid(crew)), uid(crew.outsider))


class TestAddMember:
    async def test_an_admin_adds_a_user_by_id(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        before = await generation(app, pid(crew))

        project, added = await service.add_member(
            await access(app, crew.admin, pid(crew)),
            MemberAdd(user_id=crew.outsider.id, role=ProjectRole.MEMBER),
        )

        assert added == uid(crew.outsider)
        assert roles(project)[added] is ProjectRole.MEMBER
        assert roles(await stored(app, pid(crew)))[added] is ProjectRole.MEMBER
        assert await generation(app, pid(crew)) > before
        (record,) = [
            r for r in await activity(app, pid(crew), ActivityVerb.MEMBER_ADDED) if r.target.id == added
        ]
        assert (record.actor.id, record.changes.role) == (uid(crew.admin), (None, ProjectRole.MEMBER))
        await access(app, crew.outsider, pid(crew))  # they can see it now

    async def test_by_any_spelling_of_the_email(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        zoe = await person(app, "Zoe", email="zoe@example.com")

        _, added = await service.add_member(
            await access(app, crew.owner, pid(crew)),
            MemberAdd(email="ZOE@Example.com", role=ProjectRole.VIEWER),
        )

        assert added == uid(zoe)
        assert roles(await stored(app, pid(crew)))[added] is ProjectRole.VIEWER

    async def test_a_member_already_there_is_refused(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        before = await generation(app, pid(crew))

        with pytest.raises(AlreadyMember):
            await service.add_member(
                await access(app, crew.owner, pid(crew)),
                MemberAdd(user_id=crew.viewer.id, role=ProjectRole.ADMIN),
            )

        assert roles(await stored(app, pid(crew)))[uid(crew.viewer)] is ProjectRole.VIEWER
        assert await generation(app, pid(crew)) == before

    async def test_only_an_owner_adds_an_owner(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        with pytest.raises(InsufficientRole):
            await service.add_member(
                await access(app, crew.admin, pid(crew)),
                MemberAdd(user_id=crew.outsider.id, role=ProjectRole.OWNER),
            )

        await service.add_member(
            await access(app, crew.owner, pid(crew)),
            MemberAdd(user_id=crew.outsider.id, role=ProjectRole.OWNER),
        )
        assert roles(await stored(app, pid(crew)))[uid(crew.outsider)] is ProjectRole.OWNER

    async def test_a_member_may_not_add(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        with pytest.raises(InsufficientRole):
            await service.add_member(
                await access(app, crew.member, pid(crew)), MemberAdd(user_id=crew.outsider.id)
            )

        assert uid(crew.outsider) not in roles(await stored(app, pid(crew)))

    async def test_unknown_or_disabled_users_are_unknown(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        users = user_service(resources_of(app))
        await users.administer(await users.get(uid(crew.outsider)), UserAdminUpdate(disabled=True))
        owner = await access(app, crew.owner, pid(crew))

        for data in (
            MemberAdd(user_id=str(PydanticObjectId())),
            MemberAdd(email="nobody@example.com"),
            MemberAdd(user_id=crew.outsider.id),
            MemberAdd(email=crew.outsider.email),
        ):
            with pytest.raises(UnknownUser):
                await service.add_member(owner, data)

        assert len((await stored(app, pid(crew))).members) == 4

    async def test_an_archived_project_takes_no_members(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        await service.archive(await access(app, crew.owner, pid(crew)), if_match=None)

        with pytest.raises(ProjectArchived):
            await service.add_member(
                await access(app, crew.owner, pid(crew)), MemberAdd(user_id=crew.outsider.id)
            )

    async def test_two_adds_from_one_snapshot_both_land(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        newcomer = await person(app, "Nina")
        first = await access(app, crew.owner, pid(crew))
        second = await access(app, crew.admin, pid(crew))

        await service.add_member(first, MemberAdd(user_id=crew.outsider.id))
        await service.add_member(second, MemberAdd(user_id=newcomer.id))

        members = roles(await stored(app, pid(crew)))
        assert {uid(crew.outsider), uid(newcomer)} <= set(members)
        assert len(members) == 6


class TestChangeRole:
    async def test_the_owner_promotes_a_member(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        before = await generation(app, pid(crew))

        changed = await service.change_role(
            await access(app, crew.owner, pid(crew)), uid(crew.member), ProjectRole.ADMIN
        )

        assert roles(changed)[uid(crew.member)] is ProjectRole.ADMIN
        assert roles(await stored(app, pid(crew)))[uid(crew.member)] is ProjectRole.ADMIN
        assert await generation(app, pid(crew)) > before
        (record,) = await activity(app, pid(crew), ActivityVerb.MEMBER_UPDATED)
        assert record.changes.role == (ProjectRole.MEMBER, ProjectRole.ADMIN)

    async def test_the_last_owner_cannot_be_demoted(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        with pytest.raises(LastOwner):
            await service.change_role(
                await access(app, crew.owner, pid(crew)), uid(crew.owner), ProjectRole.ADMIN
            )

        await service.change_role(
            await access(app, crew.owner, pid(crew)), uid(crew.admin), ProjectRole.OWNER
        )
        await service.change_role(
            await access(app, crew.admin, pid(crew)), uid(crew.owner), ProjectRole.ADMIN
        )
        assert roles(await stored(app, pid(crew)))[uid(crew.owner)] is ProjectRole.ADMIN

    async def test_an_admin_touches_no_owner_role(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        admin = await access(app, crew.admin, pid(crew))

        with pytest.raises(InsufficientRole):
            await service.change_role(admin, uid(crew.owner), ProjectRole.MEMBER)
        with pytest.raises(InsufficientRole):
            await service.change_role(admin, uid(crew.member), ProjectRole.OWNER)

        await service.change_role(admin, uid(crew.viewer), ProjectRole.MEMBER)
        after = roles(await stored(app, pid(crew)))
        assert (after[uid(crew.owner)], after[uid(crew.member)], after[uid(crew.viewer)]) == (
            ProjectRole.OWNER,
            ProjectRole.MEMBER,
            ProjectRole.MEMBER,
        )

    async def test_a_non_member_is_not_found(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        with pytest.raises(MemberNotFound):
            await service.change_role(
                await access(app, crew.owner, pid(crew)), uid(crew.outsider), ProjectRole.MEMBER
            )

    async def test_the_same_role_writes_nothing(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        before, base = await generation(app, pid(crew)), await version(app, pid(crew))

        same = await service.change_role(
            await access(app, crew.owner, pid(crew)), uid(crew.member), ProjectRole.MEMBER
        )

        assert same.version == base
        assert (await stored(app, pid(crew))).version == base
        assert await generation(app, pid(crew)) == before
        assert await activity(app, pid(crew), ActivityVerb.MEMBER_UPDATED) == []


class TestRemoveMember:
    async def test_an_admin_removes_a_viewer(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        before = await generation(app, pid(crew))

        changed = await service.remove_member(await access(app, crew.admin, pid(crew)), uid(crew.viewer))

        assert uid(crew.viewer) not in roles(changed)
        assert uid(crew.viewer) not in roles(await stored(app, pid(crew)))
        assert await generation(app, pid(crew)) > before
        (record,) = await activity(app, pid(crew), ActivityVerb.MEMBER_REMOVED)
        assert record.changes.role == (ProjectRole.VIEWER, None)
        caller = await resources_of(app).authenticator.caller(crew.viewer.access_token)
        assert ProjectAccess.decide(caller, await stored(app, pid(crew))) is None

    async def test_anyone_may_leave(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        await service.remove_member(await access(app, crew.viewer, pid(crew)), uid(crew.viewer))

        assert uid(crew.viewer) not in roles(await stored(app, pid(crew)))

    async def test_the_last_owner_may_not_leave(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        with pytest.raises(LastOwner):
            await service.remove_member(await access(app, crew.owner, pid(crew)), uid(crew.owner))

        assert roles(await stored(app, pid(crew)))[uid(crew.owner)] is ProjectRole.OWNER

    async def test_an_admin_may_not_remove_an_owner(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        await service.change_role(
            await access(app, crew.owner, pid(crew)), uid(crew.member), ProjectRole.OWNER
        )

        with pytest.raises(InsufficientRole):
            await service.remove_member(await access(app, crew.admin, pid(crew)), uid(crew.member))

        assert roles(await stored(app, pid(crew)))[uid(crew.member)] is ProjectRole.OWNER

    async def test_a_member_may_not_remove_others(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        with pytest.raises(InsufficientRole):
            await service.remove_member(await access(app, crew.member, pid(crew)), uid(crew.viewer))

        assert uid(crew.viewer) in roles(await stored(app, pid(crew)))

    async def test_a_non_member_is_not_found(self, app: FastAPI, service: ProjectService, crew: Crew) -> None:
        with pytest.raises(MemberNotFound):
            await service.remove_member(await access(app, crew.owner, pid(crew)), uid(crew.outsider))

    async def test_a_caller_removed_meanwhile_is_not_found(
        self, app: FastAPI, service: ProjectService, crew: Crew
    ) -> None:
        stale = await access(app, crew.admin, pid(crew))
        await service.remove_member(await access(app, crew.owner, pid(crew)), uid(crew.admin))

        with pytest.raises(ProjectNotFound):
            await service.remove_member(stale, uid(crew.viewer))

        assert uid(crew.viewer) in roles(await stored(app, pid(crew)))
