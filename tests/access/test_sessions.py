"""Sessions end for real: every access token of an ended session stops working at once.

A session is one login. Its access tokens (one per refresh) and its refresh tokens all name it;
reuse of a spent refresh token, logout, revoking it, a password change (for the other sessions) and
disabling the account end it, and with it every token it issued.
"""

import httpx
import pytest

from backend.testing import DEFAULT_PASSWORD, Actor, UserFactory, problem

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
SESSIONS = "/api/v1/users/me/sessions"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def refreshed(client: httpx.AsyncClient, refresh_token: str) -> dict[str, str]:
    response = await client.post(REFRESH, json={"refresh_token": refresh_token})
    assert response.status_code == 200, response.text
    pair: dict[str, str] = response.json()
    return pair


async def works(client: httpx.AsyncClient, access_token: str) -> bool:
    response = await client.get(ME, headers=bearer(access_token))
    if response.status_code == 401:
        problem(response, 401, "INVALID_TOKEN")
        return False
    assert response.status_code == 200, response.text
    return True


async def login(client: httpx.AsyncClient, actor: Actor, user_agent: str = "pytest") -> dict[str, str]:
    response = await client.post(
        TOKEN,
        data={"username": actor.email, "password": actor.password},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    pair: dict[str, str] = response.json()
    return pair


class TestSessionEnds:
    async def test_reused_refresh_token_ends_every_access_token_of_the_session(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        second = await refreshed(client, alice.refresh_token)

        reuse = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})

        problem(reuse, 401, "REFRESH_TOKEN_REUSED")
        assert not await works(client, alice.access_token)
        assert not await works(client, second["access_token"])
        problem(
            await client.post(REFRESH, json={"refresh_token": second["refresh_token"]}),
            401,
            "INVALID_REFRESH_TOKEN",
        )

    async def test_logout_with_a_rotated_token_ends_the_older_access_tokens_too(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        newer = await refreshed(client, alice.refresh_token)

        logout = await client.post(LOGOUT, headers=bearer(newer["access_token"]))

        assert logout.status_code == 204
        assert not await works(client, alice.access_token)
        assert not await works(client, newer["access_token"])

    async def test_password_change_ends_the_other_sessions_and_keeps_this_one(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        laptop = await login(client, alice)

        changed = await alice.client.patch(
            ME, json={"password": "a brand new passphrase", "current_password": DEFAULT_PASSWORD}
        )

        assert changed.status_code == 200, changed.text
        assert await works(client, alice.access_token)
        assert not await works(client, laptop["access_token"])
        problem(
            await client.post(REFRESH, json={"refresh_token": laptop["refresh_token"]}),
            401,
            "INVALID_REFRESH_TOKEN",
        )

    async def test_disabling_an_account_ends_all_its_sessions(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        root = await users.create(role="admin")
        alice = await users.create()
        phone = await login(client, alice)

        await root.client.patch(f"/api/v1/users/{alice.id}", json={"disabled": True})
        await root.client.patch(f"/api/v1/users/{alice.id}", json={"disabled": False})

        # Enabled again, but the sessions stay ended: she logs in anew.
        assert not await works(client, alice.access_token)
        assert not await works(client, phone["access_token"])
        assert await works(client, (await login(client, alice))["access_token"])


class TestSessionList:
    async def test_lists_active_sessions_newest_first_and_marks_the_current_one(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        phone = await login(client, alice, user_agent="Phone/1.0")

        listed = await client.get(SESSIONS, headers=bearer(phone["access_token"]))

        assert listed.status_code == 200
        items = listed.json()["items"]
        assert len(items) == 2
        assert [s["current"] for s in items] == [True, False]
        assert items[0]["user_agent"] == "Phone/1.0"
        assert set(items[0]) == {"id", "created_at", "last_used_at", "expires_at", "user_agent", "current"}

    async def test_pages_with_a_cursor(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()
        for _ in range(3):
            await login(client, alice)

        first = (await alice.client.get(SESSIONS, params={"limit": 2})).json()
        second = (
            await alice.client.get(SESSIONS, params={"limit": 2, "cursor": first["next_cursor"]})
        ).json()

        ids = [s["id"] for s in first["items"] + second["items"]]
        assert len(ids) == 4 == len(set(ids))
        assert second["next_cursor"] is None

    async def test_ending_one_session_ends_its_tokens_only(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        phone = await login(client, alice, user_agent="Phone/1.0")
        listed = (await alice.client.get(SESSIONS)).json()["items"]
        phone_session = next(s["id"] for s in listed if s["user_agent"] == "Phone/1.0")

        ended = await alice.client.delete(f"{SESSIONS}/{phone_session}")

        assert ended.status_code == 204
        assert not await works(client, phone["access_token"])
        assert await works(client, alice.access_token)
        assert [s["id"] for s in (await alice.client.get(SESSIONS)).json()["items"]] != [phone_session]
        assert (await alice.client.delete(f"{SESSIONS}/{phone_session}")).status_code == 204

    async def test_ending_everything_else_keeps_this_session(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        others = [await login(client, alice) for _ in range(2)]

        assert (await alice.client.delete(SESSIONS)).status_code == 204

        assert await works(client, alice.access_token)
        assert not any([await works(client, o["access_token"]) for o in others])
        assert len((await alice.client.get(SESSIONS)).json()["items"]) == 1

    async def test_ending_all_including_this_one(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()

        assert (await alice.client.delete(SESSIONS, params={"include_current": "true"})).status_code == 204

        assert not await works(client, alice.access_token)

    @pytest.mark.parametrize("session_id", ["someone-else", "0123456789abcdef01234567", "nope"])
    async def test_someone_elses_or_unknown_session_is_404(
        self, client: httpx.AsyncClient, users: UserFactory, session_id: str
    ) -> None:
        alice, bob = await users.create(), await users.create()
        if session_id == "someone-else":
            session_id = (await bob.client.get(SESSIONS)).json()["items"][0]["id"]

        problem(await alice.client.delete(f"{SESSIONS}/{session_id}"), 404, "SESSION_NOT_FOUND")

        assert await works(client, bob.access_token)

    async def test_personal_access_tokens_are_not_ended_with_sessions(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        pat = (await alice.client.post("/api/v1/users/me/tokens", json={"name": "ci"})).json()["token"]

        await alice.client.delete(SESSIONS, params={"include_current": "true"})

        assert await works(client, pat)
