"""UserService, called directly: registration, lookups, display names, profiles and admin changes."""

import pytest
from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.auth.errors import InvalidToken
from backend.core.pagination import InvalidCursor
from backend.resources import resources_of
from backend.testing import DEFAULT_PASSWORD, CommandLog, UserFactory
from backend.users.dependencies import user_service
from backend.users.documents import GlobalRole, User
from backend.users.errors import EmailTaken, LastAdmin, UserNotFound, WrongCurrentPassword
from backend.users.schemas import ProfileUpdate, UserAdminUpdate, UserRegister
from backend.users.service import UserService

NEW_PASSWORD = "a different passphrase"


@pytest.fixture
def service(app: FastAPI) -> UserService:
    return user_service(resources_of(app))


async def register(
    service: UserService,
    email: str,
    *,
    name: str = "Someone",
    password: str = DEFAULT_PASSWORD,
    role: GlobalRole = GlobalRole.USER,
) -> User:
    return await service.register(UserRegister(email=email, password=password, display_name=name), role=role)


def verifies(app: FastAPI, password: str, user: User) -> bool:
    return resources_of(app).hasher.verify(password, user.password_hash)


def user_finds(log: CommandLog) -> int:
    return sum(1 for command, body in log.commands if command == "find" and body.get("find") == "users")


def uid(user: User) -> PydanticObjectId:
    assert user.id is not None
    return user.id


class TestRegister:
    async def test_stores_the_account_with_a_hash_of_the_password(
        self, app: FastAPI, service: UserService
    ) -> None:
        user = await register(service, "  Ada@Example.COM ", name=" Ada ")

        stored = await service.get(uid(user))
        assert stored.email == "ada@example.com"
        assert stored.email_normalized == "ada@example.com"
        assert stored.display_name == "Ada"
        assert stored.role is GlobalRole.USER
        assert stored.disabled is False
        assert DEFAULT_PASSWORD not in stored.password_hash
        assert verifies(app, DEFAULT_PASSWORD, stored)
        assert not verifies(app, NEW_PASSWORD, stored)

    async def test_role_can_be_given(self, service: UserService) -> None:
        user = await register(service, "root@example.com", role=GlobalRole.ADMIN)

        assert (await service.get(uid(user))).role is GlobalRole.ADMIN

    @pytest.mark.parametrize(
        "second",
        [
            "dup@example.com",
            "DUP@Example.com",
            " dup@example.com",
            "\uff44up@example.com",  # a full-width `d`: NFKC folds it
        ],
    )
    async def test_an_address_taken_in_any_spelling_is_refused(
        self, service: UserService, second: str
    ) -> None:
        first = await register(service, "dup@example.com", name="First")

        with pytest.raises(EmailTaken):
            await register(service, second, name="Second")

        found = await service.find_by_email("dup@example.com")
        assert found is not None
        assert (found.id, found.display_name) == (first.id, "First")

    async def test_case_folding_goes_beyond_lower_case(self, service: UserService) -> None:
        await register(service, "strasse@example.com")

        with pytest.raises(EmailTaken):
            await register(service, "Straße@example.com")


class TestGet:
    async def test_returns_the_stored_user(self, service: UserService) -> None:
        user = await register(service, "get@example.com", name="Gina")

        found = await service.get(uid(user))

        assert (found.id, found.email, found.display_name) == (user.id, "get@example.com", "Gina")

    async def test_unknown_id_is_user_not_found(self, service: UserService) -> None:
        with pytest.raises(UserNotFound):
            await service.get(PydanticObjectId())


class TestFind:
    async def test_returns_the_user_or_none(self, service: UserService) -> None:
        user = await register(service, "find@example.com", name="Fay")

        found = await service.find(uid(user))

        assert found is not None
        assert (found.id, found.display_name) == (user.id, "Fay")
        assert await service.find(PydanticObjectId()) is None
        assert await service.find(None) is None


class TestFindByEmail:
    async def test_finds_by_any_spelling_of_the_address(self, service: UserService) -> None:
        user = await register(service, "finn@example.com")

        for spelling in ("finn@example.com", " FINN@EXAMPLE.COM ", "\uff26inn@example.com"):
            found = await service.find_by_email(spelling)
            assert found is not None, spelling
            assert found.id == user.id

    async def test_unknown_address_is_none(self, service: UserService) -> None:
        await register(service, "known@example.com")

        assert await service.find_by_email("unknown@example.com") is None


class TestDisplayNames:
    async def test_names_many_users_in_one_query(
        self, service: UserService, mongo_commands: CommandLog
    ) -> None:
        made = [await register(service, f"n{i}@example.com", name=f"Name {i}") for i in range(5)]
        mongo_commands.clear()

        names = await service.display_names({uid(u) for u in made})

        assert names == {uid(u): f"Name {i}" for i, u in enumerate(made)}
        assert user_finds(mongo_commands) == 1

    async def test_unknown_ids_are_left_out(self, service: UserService) -> None:
        known = await register(service, "k@example.com", name="Kim")
        unknown = PydanticObjectId()

        names = await service.display_names({uid(known), unknown})

        assert names == {uid(known): "Kim"}

    async def test_no_ids_no_query(self, service: UserService, mongo_commands: CommandLog) -> None:
        mongo_commands.clear()

        assert await service.display_names(set()) == {}
        assert mongo_commands.commands == []

    async def test_names_asked_again_come_from_the_cache(
        self, service: UserService, mongo_commands: CommandLog
    ) -> None:
        made = [await register(service, f"c{i}@example.com", name=f"C {i}") for i in range(3)]
        ids = {uid(u) for u in made}
        first = await service.display_names(ids)
        mongo_commands.clear()

        again = await service.display_names(ids)

        assert again == first
        assert user_finds(mongo_commands) == 0

    async def test_a_renamed_user_is_not_named_from_the_cache(self, service: UserService) -> None:
        user = await register(service, "old@example.com", name="Old name")
        assert await service.display_names({uid(user)}) == {uid(user): "Old name"}

        await service.update_profile(user, ProfileUpdate(display_name="New name"))

        assert await service.display_names({uid(user)}) == {uid(user): "New name"}


class TestUpdateProfile:
    async def test_changes_the_display_name(self, app: FastAPI, service: UserService) -> None:
        user = await register(service, "p@example.com", name="Before")

        updated, password_changed = await service.update_profile(user, ProfileUpdate(display_name="After"))

        assert password_changed is False
        assert updated.display_name == "After"
        stored = await service.get(uid(user))
        assert stored.display_name == "After"
        assert verifies(app, DEFAULT_PASSWORD, stored)

    async def test_changes_the_password_given_the_current_one(
        self, app: FastAPI, service: UserService
    ) -> None:
        user = await register(service, "pw@example.com", name="Pat")

        _, password_changed = await service.update_profile(
            user, ProfileUpdate(password=NEW_PASSWORD, current_password=DEFAULT_PASSWORD)
        )

        assert password_changed is True
        stored = await service.get(uid(user))
        assert verifies(app, NEW_PASSWORD, stored)
        assert not verifies(app, DEFAULT_PASSWORD, stored)
        assert stored.display_name == "Pat"

    async def test_wrong_current_password_changes_nothing(self, app: FastAPI, service: UserService) -> None:
        user = await register(service, "wrong@example.com", name="Wren")

        with pytest.raises(WrongCurrentPassword) as raised:
            await service.update_profile(
                user,
                ProfileUpdate(display_name="Other", password=NEW_PASSWORD, current_password="not it at all"),
            )

        assert raised.value.field_errors == {"current_password": ["Does not match."]}
        stored = await service.get(uid(user))
        assert stored.display_name == "Wren"
        assert verifies(app, DEFAULT_PASSWORD, stored)

    async def test_an_empty_update_writes_nothing(
        self, service: UserService, mongo_commands: CommandLog
    ) -> None:
        user = await register(service, "same@example.com", name="Sam")
        mongo_commands.clear()

        updated, password_changed = await service.update_profile(user, ProfileUpdate())

        assert (updated.display_name, password_changed) == ("Sam", False)
        assert [command for command, _ in mongo_commands.commands if command != "find"] == []

    async def test_unknown_user_is_user_not_found(self, service: UserService) -> None:
        ghost = User(
            email="g@example.com", email_normalized="g@example.com", display_name="G", password_hash="x"
        )
        ghost.id = PydanticObjectId()

        with pytest.raises(UserNotFound):
            await service.update_profile(ghost, ProfileUpdate(display_name="Boo"))


class TestPage:
    async def test_pages_through_users_in_email_order(self, service: UserService) -> None:
        for local in ("delta", "alpha", "echo", "charlie", "bravo"):
            await register(service, f"{local}@example.com")

        seen: list[str] = []
        cursor: str | None = None
        for _ in range(5):
            page = await service.page(email_prefix=None, cursor=cursor, limit=2, include_total=True)
            assert page.total == 5
            seen += [u.email for u in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break

        assert seen == [f"{w}@example.com" for w in ("alpha", "bravo", "charlie", "delta", "echo")]

    async def test_total_only_when_asked(self, service: UserService) -> None:
        await register(service, "t@example.com")

        page = await service.page(email_prefix=None, cursor=None, limit=10, include_total=False)

        assert page.total is None
        assert [u.email for u in page.items] == ["t@example.com"]
        assert page.next_cursor is None

    async def test_email_prefix_is_literal_and_case_insensitive(self, service: UserService) -> None:
        for email in ("a.b@example.com", "axb@example.com", "a.c@example.com", "b@example.com"):
            await register(service, email)

        page = await service.page(email_prefix="A.", cursor=None, limit=10, include_total=True)

        assert [u.email for u in page.items] == ["a.b@example.com", "a.c@example.com"]
        assert page.total == 2

    async def test_a_cursor_resumes_within_the_prefix(self, service: UserService) -> None:
        for email in ("m1@example.com", "m2@example.com", "m3@example.com", "n@example.com"):
            await register(service, email)

        first = await service.page(email_prefix="m", cursor=None, limit=2, include_total=False)
        assert first.next_cursor is not None
        rest = await service.page(email_prefix="m", cursor=first.next_cursor, limit=2, include_total=False)

        assert [u.email for u in first.items + rest.items] == [
            "m1@example.com",
            "m2@example.com",
            "m3@example.com",
        ]
        assert rest.next_cursor is None

    async def test_a_foreign_or_tampered_cursor_is_refused(self, app: FastAPI, service: UserService) -> None:
        foreign = resources_of(app).cursors.encode("projects:0:0", {"e": "a@example.com"})

        for cursor in (foreign, "not-a-cursor", foreign[:-2] + "xx"):
            with pytest.raises(InvalidCursor):
                await service.page(email_prefix=None, cursor=cursor, limit=2, include_total=False)


class TestAdminister:
    async def test_the_only_admin_can_be_neither_demoted_nor_disabled(self, service: UserService) -> None:
        admin = await register(service, "root@example.com", role=GlobalRole.ADMIN)
        await register(service, "plain@example.com")

        for change in (UserAdminUpdate(role=GlobalRole.USER), UserAdminUpdate(disabled=True)):
            with pytest.raises(LastAdmin):
                await service.administer(await service.get(uid(admin)), change)

        stored = await service.get(uid(admin))
        assert (stored.role, stored.disabled) == (GlobalRole.ADMIN, False)

    async def test_an_admin_may_be_demoted_while_another_remains(self, service: UserService) -> None:
        first = await register(service, "a1@example.com", role=GlobalRole.ADMIN)
        second = await register(service, "a2@example.com", role=GlobalRole.ADMIN)

        changed = await service.administer(
            await service.get(uid(first)), UserAdminUpdate(role=GlobalRole.USER)
        )

        assert changed.role is GlobalRole.USER
        assert (await service.get(uid(first))).role is GlobalRole.USER
        with pytest.raises(LastAdmin):
            await service.administer(await service.get(uid(second)), UserAdminUpdate(disabled=True))

    async def test_a_disabled_admin_does_not_count_as_another_admin(self, service: UserService) -> None:
        active = await register(service, "active@example.com", role=GlobalRole.ADMIN)
        dormant = await register(service, "dormant@example.com", role=GlobalRole.ADMIN)
        await service.administer(await service.get(uid(dormant)), UserAdminUpdate(disabled=True))

        with pytest.raises(LastAdmin):
            await service.administer(await service.get(uid(active)), UserAdminUpdate(role=GlobalRole.USER))

    async def test_keeping_the_last_admin_an_admin_is_allowed(self, service: UserService) -> None:
        admin = await register(service, "keep@example.com", role=GlobalRole.ADMIN)

        changed = await service.administer(
            await service.get(uid(admin)), UserAdminUpdate(role=GlobalRole.ADMIN, disabled=False)
        )

        assert (changed.role, changed.disabled) == (GlobalRole.ADMIN, False)

    async def test_promotes_a_user(self, service: UserService) -> None:
        user = await register(service, "up@example.com")

        await service.administer(await service.get(uid(user)), UserAdminUpdate(role=GlobalRole.ADMIN))

        assert (await service.get(uid(user))).role is GlobalRole.ADMIN

    async def test_a_disabled_user_is_refused_at_once(
        self, app: FastAPI, service: UserService, users: UserFactory
    ) -> None:
        bob = await users.create()
        authenticator = resources_of(app).authenticator
        assert str((await authenticator.caller(bob.access_token)).user_id) == bob.id

        changed = await service.administer(
            await service.get(PydanticObjectId(bob.id)), UserAdminUpdate(disabled=True)
        )

        assert changed.disabled is True
        assert (await service.get(PydanticObjectId(bob.id))).disabled is True
        with pytest.raises(InvalidToken):
            await authenticator.caller(bob.access_token)
