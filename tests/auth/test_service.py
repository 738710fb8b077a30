"""AuthService, called directly: sessions, refresh rotation and reuse, logout, personal access tokens."""

from datetime import timedelta

import pytest
from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.access.caller import Caller, Via
from backend.auth.dependencies import auth_service
from backend.auth.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidToken,
    RefreshTokenReused,
    SessionNotFound,
    TokenNotFound,
    TooManyTokens,
)
from backend.auth.schemas import TokenCreate, TokenPair
from backend.auth.service import MAX_ACTIVE_TOKENS, AuthService
from backend.core.ratelimit.rules import RateLimited
from backend.core.time import utcnow
from backend.resources import resources_of
from backend.testing import DEFAULT_PASSWORD, Actor, UserFactory
from backend.users.dependencies import user_service
from backend.users.schemas import UserAdminUpdate, UserRegister

IP = "203.0.113.7"


@pytest.fixture
def auth(app: FastAPI) -> AuthService:
    return auth_service(resources_of(app))


async def caller(app: FastAPI, token: str) -> Caller:
    return await resources_of(app).authenticator.caller(token)


async def refused(app: FastAPI, token: str) -> bool:
    try:
        await caller(app, token)
    except InvalidToken:
        return True
    return False


async def login(auth: AuthService, actor: Actor, user_agent: str = "tests") -> TokenPair:
    return await auth.login(actor.email, actor.password, client_ip=IP, user_agent=user_agent)


async def session_ids(app: FastAPI, auth: AuthService, token: str) -> list[str]:
    page = await auth.sessions(await caller(app, token), cursor=None, limit=50)
    return [str(s.id) for s in page.items]


async def session_of(app: FastAPI, token: str) -> str:
    session_id = (await caller(app, token)).session_id
    assert session_id is not None
    return session_id


async def disable(app: FastAPI, actor: Actor) -> None:
    users = user_service(resources_of(app))
    await users.administer(await users.get(PydanticObjectId(actor.id)), UserAdminUpdate(disabled=True))


class TestLogin:
    async def test_opens_a_session_that_its_tokens_name(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()

        pair = await login(auth, bob, user_agent="curl/8")

        me = await caller(app, pair.access_token)
        assert str(me.user_id) == bob.id
        assert me.via is Via.ACCESS_TOKEN
        assert me.session_id is not None
        assert me.session_id != await session_of(app, bob.access_token)
        assert pair.refresh_token.startswith("tlr_")
        assert pair.expires_in == resources_of(app).settings.access_token_ttl_seconds
        sessions = (await auth.sessions(me, cursor=None, limit=10)).items
        mine = [s for s in sessions if str(s.id) == me.session_id]
        assert [(s.user_agent, s.current) for s in mine] == [("curl/8", True)]

    async def test_any_spelling_of_the_email_logs_in(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create(email="bob@example.com")

        pair = await auth.login(" BOB@Example.com", DEFAULT_PASSWORD, client_ip=IP, user_agent="")

        assert str((await caller(app, pair.access_token)).user_id) == bob.id

    async def test_a_long_user_agent_is_cut_to_256_characters(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()

        pair = await login(auth, bob, user_agent="u" * 1000)

        me = await caller(app, pair.access_token)
        (current,) = [s for s in (await auth.sessions(me, cursor=None, limit=10)).items if s.current]
        assert current.user_agent == "u" * 256

    async def test_wrong_password_or_unknown_email_is_invalid_credentials(
        self, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()

        with pytest.raises(InvalidCredentials):
            await auth.login(bob.email, "not the password", client_ip=IP, user_agent="")
        with pytest.raises(InvalidCredentials):
            await auth.login("nobody@example.com", DEFAULT_PASSWORD, client_ip=IP, user_agent="")

    async def test_a_disabled_account_is_refused(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        await disable(app, bob)

        with pytest.raises(AccountDisabled):
            await login(auth, bob)

    @pytest.mark.tasklane_settings(login_rate_limit_per_email="2/minute")
    async def test_logins_per_email_are_limited(self, app: FastAPI, auth: AuthService) -> None:
        email = "limited@example.com"
        await user_service(resources_of(app)).register(
            UserRegister(email=email, password=DEFAULT_PASSWORD, display_name="Lim")
        )
        for _ in range(2):
            await auth.login(email, DEFAULT_PASSWORD, client_ip=IP, user_agent="")

        with pytest.raises(RateLimited):
            await auth.login(email.upper(), DEFAULT_PASSWORD, client_ip="198.51.100.1", user_agent="")


class TestRefresh:
    async def test_rotates_within_the_same_session(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        session = await session_of(app, bob.access_token)

        pair = await auth.refresh(bob.refresh_token)

        assert pair.refresh_token != bob.refresh_token
        assert pair.access_token != bob.access_token
        assert await session_of(app, pair.access_token) == session
        assert await session_of(app, bob.access_token) == session  # the old access token still works
        again = await auth.refresh(pair.refresh_token)
        assert await session_of(app, again.access_token) == session
        assert await session_ids(app, auth, again.access_token) == [session]

    async def test_a_reused_refresh_token_ends_its_session(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        other = await login(auth, bob)
        rotated = await auth.refresh(bob.refresh_token)

        with pytest.raises(RefreshTokenReused):
            await auth.refresh(bob.refresh_token)

        assert await refused(app, bob.access_token)
        assert await refused(app, rotated.access_token)
        with pytest.raises(InvalidRefreshToken):
            await auth.refresh(rotated.refresh_token)
        # Bob's other sign-in is untouched.
        assert await session_ids(app, auth, other.access_token) == [await session_of(app, other.access_token)]
        await auth.refresh(other.refresh_token)

    async def test_an_unknown_token_is_invalid(self, auth: AuthService) -> None:
        with pytest.raises(InvalidRefreshToken):
            await auth.refresh("tlr_never-issued")

    async def test_a_token_of_an_ended_session_is_invalid(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        await auth.logout(await caller(app, bob.access_token), None)

        with pytest.raises(InvalidRefreshToken):
            await auth.refresh(bob.refresh_token)

    async def test_a_disabled_account_is_told_so(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob, carol = await users.create(), await users.create()
        # As the admin route does: disable, then end every session.
        await disable(app, bob)
        await auth.end_sessions(PydanticObjectId(bob.id), reason="account_disabled")
        # Disabled without the sessions ended: the refresh itself notices.
        await disable(app, carol)

        with pytest.raises(AccountDisabled):
            await auth.refresh(bob.refresh_token)
        with pytest.raises(AccountDisabled):
            await auth.refresh(carol.refresh_token)


class TestLogout:
    async def test_ends_the_callers_session_only(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        other = await login(auth, bob)

        await auth.logout(await caller(app, bob.access_token), None)

        assert await refused(app, bob.access_token)
        with pytest.raises(InvalidRefreshToken):
            await auth.refresh(bob.refresh_token)
        assert not await refused(app, other.access_token)
        await auth.refresh(other.refresh_token)

    async def test_also_ends_the_session_of_the_refresh_token_given(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        other = await login(auth, bob)
        third = await login(auth, bob)

        await auth.logout(await caller(app, bob.access_token), other.refresh_token)

        assert await refused(app, bob.access_token)
        assert await refused(app, other.access_token)
        assert await session_ids(app, auth, third.access_token) == [await session_of(app, third.access_token)]

    async def test_ignores_a_refresh_token_of_someone_else(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob, carol = await users.create(), await users.create()

        await auth.logout(await caller(app, bob.access_token), carol.refresh_token)

        assert await refused(app, bob.access_token)
        assert not await refused(app, carol.access_token)
        await auth.refresh(carol.refresh_token)

    async def test_a_personal_access_token_has_no_session_to_end(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        token = await auth.create_pat(PydanticObjectId(bob.id), TokenCreate(name="script"))

        await auth.logout(await caller(app, token.token), None)

        assert not await refused(app, bob.access_token)
        assert not await refused(app, token.token)


class TestSessions:
    async def test_lists_live_sessions_newest_first_marking_the_current_one(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        second, third = await login(auth, bob), await login(auth, bob)
        expected = [
            await session_of(app, t) for t in (third.access_token, second.access_token, bob.access_token)
        ]

        page = await auth.sessions(await caller(app, second.access_token), cursor=None, limit=10)

        assert [str(s.id) for s in page.items] == expected
        assert [s.current for s in page.items] == [False, True, False]
        assert page.next_cursor is None
        assert all(s.expires_at > utcnow() for s in page.items)

    async def test_ended_sessions_and_other_users_sessions_are_not_listed(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob, carol = await users.create(), await users.create()
        kept = await login(auth, bob)
        await auth.logout(await caller(app, bob.access_token), None)

        assert await session_ids(app, auth, kept.access_token) == [await session_of(app, kept.access_token)]
        assert await session_ids(app, auth, carol.access_token) == [await session_of(app, carol.access_token)]

    async def test_pages_with_a_cursor(self, app: FastAPI, auth: AuthService, users: UserFactory) -> None:
        bob = await users.create()
        pairs = [await login(auth, bob) for _ in range(3)]
        me = await caller(app, bob.access_token)
        everything = await session_ids(app, auth, bob.access_token)

        seen: list[str] = []
        cursor: str | None = None
        for _ in range(len(pairs) + 1):
            page = await auth.sessions(me, cursor=cursor, limit=1)
            assert len(page.items) == 1
            seen.append(str(page.items[0].id))
            cursor = page.next_cursor
            if cursor is None:
                break

        assert len(everything) == 4
        assert seen == everything


class TestEndSession:
    async def test_ends_that_session_only(self, app: FastAPI, auth: AuthService, users: UserFactory) -> None:
        bob = await users.create()
        other = await login(auth, bob)
        me = await caller(app, bob.access_token)

        await auth.end_session(me, PydanticObjectId(await session_of(app, other.access_token)))

        assert await refused(app, other.access_token)
        with pytest.raises(InvalidRefreshToken):
            await auth.refresh(other.refresh_token)
        assert not await refused(app, bob.access_token)

    async def test_ending_an_ended_session_again_is_fine(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        other = await login(auth, bob)
        me = await caller(app, bob.access_token)
        session = PydanticObjectId(await session_of(app, other.access_token))
        await auth.end_session(me, session)

        await auth.end_session(me, session)

        assert await session_ids(app, auth, bob.access_token) == [me.session_id]

    async def test_someone_elses_or_an_unknown_session_is_not_found(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob, carol = await users.create(), await users.create()
        me = await caller(app, bob.access_token)

        with pytest.raises(SessionNotFound):
            await auth.end_session(me, PydanticObjectId(await session_of(app, carol.access_token)))
        with pytest.raises(SessionNotFound):
            await auth.end_session(me, PydanticObjectId())

        assert not await refused(app, carol.access_token)


class TestEndSessions:
    async def test_ends_all_but_the_one_kept(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob, carol = await users.create(), await users.create()
        others = [await login(auth, bob) for _ in range(2)]
        kept = await session_of(app, bob.access_token)

        await auth.end_sessions(PydanticObjectId(bob.id), keep=kept, reason="password_changed")

        for pair in others:
            assert await refused(app, pair.access_token)
            with pytest.raises(InvalidRefreshToken):
                await auth.refresh(pair.refresh_token)
        assert await session_ids(app, auth, bob.access_token) == [kept]
        assert not await refused(app, carol.access_token)

    async def test_ends_only_those_named(self, app: FastAPI, auth: AuthService, users: UserFactory) -> None:
        bob = await users.create()
        second, third = await login(auth, bob), await login(auth, bob)

        await auth.end_sessions(
            PydanticObjectId(bob.id), only=[await session_of(app, second.access_token)], reason="revoked"
        )

        assert await refused(app, second.access_token)
        assert not await refused(app, third.access_token)
        assert not await refused(app, bob.access_token)

    async def test_ends_every_session_of_the_user(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        other = await login(auth, bob)

        await auth.end_sessions(PydanticObjectId(bob.id), reason="account_disabled")

        assert await refused(app, bob.access_token)
        assert await refused(app, other.access_token)


class TestCreatePat:
    async def test_returns_a_secret_that_authenticates_as_the_user(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        expires = utcnow() + timedelta(days=7)

        created = await auth.create_pat(
            PydanticObjectId(bob.id), TokenCreate(name=" ci ", expires_at=expires)
        )

        assert created.token.startswith("tlp_")
        assert created.token_prefix == created.token[:10]
        assert created.name == "ci"
        assert created.expires_at == expires
        me = await caller(app, created.token)
        assert (str(me.user_id), me.via, me.token_id, me.session_id) == (
            bob.id,
            Via.PERSONAL_ACCESS_TOKEN,
            str(created.id),
            None,
        )

    async def test_a_user_has_at_most_50_active_tokens(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob, carol = await users.create(), await users.create()
        bob_id = PydanticObjectId(bob.id)
        made = [await auth.create_pat(bob_id, TokenCreate(name=f"t{i}")) for i in range(MAX_ACTIVE_TOKENS)]

        with pytest.raises(TooManyTokens):
            await auth.create_pat(bob_id, TokenCreate(name="one too many"))

        await auth.create_pat(PydanticObjectId(carol.id), TokenCreate(name="carol's first"))
        await auth.revoke_pat(bob_id, made[0].id)
        replacement = await auth.create_pat(bob_id, TokenCreate(name="replacement"))
        assert str((await caller(app, replacement.token)).user_id) == bob.id


class TestListPats:
    async def test_lists_own_active_tokens_oldest_first(self, auth: AuthService, users: UserFactory) -> None:
        bob, carol = await users.create(), await users.create()
        bob_id = PydanticObjectId(bob.id)
        made = [await auth.create_pat(bob_id, TokenCreate(name=f"t{i}")) for i in range(3)]
        await auth.create_pat(PydanticObjectId(carol.id), TokenCreate(name="carol's"))
        await auth.revoke_pat(bob_id, made[1].id)

        listed = await auth.list_pats(bob_id)

        assert [(t.id, t.name) for t in listed] == [(made[0].id, "t0"), (made[2].id, "t2")]

    async def test_none_at_first(self, auth: AuthService, users: UserFactory) -> None:
        bob = await users.create()

        assert await auth.list_pats(PydanticObjectId(bob.id)) == []


class TestRevokePat:
    async def test_the_token_stops_working_at_once(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob = await users.create()
        bob_id = PydanticObjectId(bob.id)
        doomed = await auth.create_pat(bob_id, TokenCreate(name="doomed"))
        kept = await auth.create_pat(bob_id, TokenCreate(name="kept"))
        assert not await refused(app, doomed.token)

        await auth.revoke_pat(bob_id, doomed.id)

        assert await refused(app, doomed.token)
        assert not await refused(app, kept.token)

    async def test_revoking_twice_is_token_not_found(self, auth: AuthService, users: UserFactory) -> None:
        bob = await users.create()
        bob_id = PydanticObjectId(bob.id)
        token = await auth.create_pat(bob_id, TokenCreate(name="once"))
        await auth.revoke_pat(bob_id, token.id)

        with pytest.raises(TokenNotFound):
            await auth.revoke_pat(bob_id, token.id)

    async def test_someone_elses_token_is_not_found_and_keeps_working(
        self, app: FastAPI, auth: AuthService, users: UserFactory
    ) -> None:
        bob, carol = await users.create(), await users.create()
        carols = await auth.create_pat(PydanticObjectId(carol.id), TokenCreate(name="carol's"))

        with pytest.raises(TokenNotFound):
            await auth.revoke_pat(PydanticObjectId(bob.id), carols.id)
        with pytest.raises(TokenNotFound):
            await auth.revoke_pat(PydanticObjectId(bob.id), PydanticObjectId())

        assert not await refused(app, carols.token)
