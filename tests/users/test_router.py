"""Your account, personal access tokens and user administration, through HTTP."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backend.testing import UserFactory, problem

ME = "/api/v1/users/me"
TOKENS = "/api/v1/users/me/tokens"
REFRESH = "/api/v1/auth/refresh"


class TestMe:
    async def test_reads_own_account(self, users: UserFactory) -> None:
        alice = await users.create(display_name="Alice")

        response = await alice.client.get(ME)

        assert response.status_code == 200
        assert response.json() == {
            "id": alice.id,
            "email": alice.email,
            "display_name": "Alice",
            "handle": response.json()["handle"],
            "role": "user",
            "disabled": False,
            "created_at": response.json()["created_at"],
        }
        assert response.json()["created_at"].endswith("Z")

    async def test_changes_display_name(self, users: UserFactory) -> None:
        alice = await users.create()

        response = await alice.client.patch(ME, json={"display_name": "  Alice B.  "})

        assert response.status_code == 200
        assert response.json()["display_name"] == "Alice B."
        assert (await alice.client.get(ME)).json()["display_name"] == "Alice B."

    async def test_password_change_needs_current_password(self, users: UserFactory) -> None:
        alice = await users.create()

        missing = await alice.client.patch(ME, json={"password": "a brand new password"})
        wrong = await alice.client.patch(
            ME, json={"password": "a brand new password", "current_password": "not my password"}
        )

        assert "current_password" in str(problem(missing, 422, "VALIDATION_FAILED")["field_errors"])
        assert problem(wrong, 403, "WRONG_CURRENT_PASSWORD")["field_errors"] == {
            "current_password": ["Does not match."]
        }

    async def test_password_change_ends_other_sessions_only(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        other_session = await users.login(alice.email)

        changed = await alice.client.patch(
            ME, json={"password": "a brand new password", "current_password": alice.password}
        )

        assert changed.status_code == 200
        assert (
            await client.post(REFRESH, json={"refresh_token": other_session["refresh_token"]})
        ).status_code == 401
        assert (await client.post(REFRESH, json={"refresh_token": alice.refresh_token})).status_code == 200
        old = await client.post(
            "/api/v1/auth/token", data={"username": alice.email, "password": alice.password}
        )
        assert old.status_code == 401
        new = await users.login(alice.email, "a brand new password")
        assert new["access_token"]

    async def test_unknown_fields_are_refused(self, users: UserFactory) -> None:
        alice = await users.create()

        response = await alice.client.patch(ME, json={"role": "admin"})

        assert "role" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]


class TestPersonalAccessTokens:
    async def test_create_use_list_revoke(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()

        created = await alice.client.post(TOKENS, json={"name": "deploy script"})

        assert created.status_code == 201
        token = created.json()
        assert token["token"].startswith("tlp_")
        assert token["token_prefix"] == token["token"][:10]
        assert created.headers["location"] == f"{TOKENS}/{token['id']}"
        pat_headers = {"Authorization": f"Bearer {token['token']}"}
        assert (await client.get(ME, headers=pat_headers)).json()["id"] == alice.id

        listed = (await alice.client.get(TOKENS)).json()
        assert listed["next_cursor"] is None
        assert [t["name"] for t in listed["items"]] == ["deploy script"]
        assert "token" not in listed["items"][0]
        assert token["token"] not in str(listed)

        assert (await alice.client.delete(f"{TOKENS}/{token['id']}")).status_code == 204
        revoked = await client.get(ME, headers=pat_headers)
        problem(revoked, 401, "INVALID_TOKEN")
        assert (await alice.client.get(TOKENS)).json()["items"] == []

    async def test_secret_is_stored_only_hashed(self, users: UserFactory, db: Any) -> None:
        alice = await users.create()
        secret = (await alice.client.post(TOKENS, json={"name": "x"})).json()["token"]

        stored = await db["personal_access_tokens"].find_one({})

        assert secret not in str(stored)

    async def test_expired_token_stops_working(
        self, client: httpx.AsyncClient, users: UserFactory, db: Any
    ) -> None:
        alice = await users.create()
        soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        secret = (await alice.client.post(TOKENS, json={"name": "x", "expires_at": soon})).json()["token"]
        await db["personal_access_tokens"].update_many(
            {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
        )

        problem(await client.get(ME, headers={"Authorization": f"Bearer {secret}"}), 401, "INVALID_TOKEN")

    @pytest.mark.parametrize(
        "payload",
        [
            {},
            {"name": ""},
            {"name": "n" * 101},
            {"name": "x", "expires_at": "2000-01-01T00:00:00Z"},
            {"name": "x", "expires_at": "tomorrow"},
        ],
    )
    async def test_invalid_input_is_422(self, users: UserFactory, payload: dict[str, Any]) -> None:
        alice = await users.create()

        problem(await alice.client.post(TOKENS, json=payload), 422, "VALIDATION_FAILED")

    async def test_cannot_revoke_another_users_token(self, users: UserFactory) -> None:
        alice, mallory = await users.create(), await users.create()
        token_id = (await alice.client.post(TOKENS, json={"name": "x"})).json()["id"]

        problem(await mallory.client.delete(f"{TOKENS}/{token_id}"), 404, "TOKEN_NOT_FOUND")
        problem(await alice.client.delete(f"{TOKENS}/not-an-id"), 404, "TOKEN_NOT_FOUND")
        assert (await alice.client.delete(f"{TOKENS}/{token_id}")).status_code == 204
        problem(await alice.client.delete(f"{TOKENS}/{token_id}"), 404, "TOKEN_NOT_FOUND")

    async def test_pat_is_not_a_refresh_token(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()
        secret = (await alice.client.post(TOKENS, json={"name": "x"})).json()["token"]

        problem(await client.post(REFRESH, json={"refresh_token": secret}), 401, "INVALID_REFRESH_TOKEN")


class TestAdministration:
    async def test_non_admin_gets_403(self, users: UserFactory) -> None:
        alice = await users.create()

        problem(await alice.client.get("/api/v1/users"), 403, "ADMIN_REQUIRED")
        problem(
            await alice.client.patch(f"/api/v1/users/{alice.id}", json={"role": "admin"}),
            403,
            "ADMIN_REQUIRED",
        )
        problem(await alice.client.get(f"/api/v1/users/{alice.id}"), 403, "ADMIN_REQUIRED")

    async def test_lists_by_email_prefix_with_cursor_pages(self, users: UserFactory) -> None:
        admin = await users.create(role="admin", email="root@example.org")
        for name in ["carol", "carl", "cathy", "dave", "carmen"]:
            await users.create(email=f"{name}@example.com")

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"email_prefix": "CAR", "limit": 2, "include_total": True}
            if cursor:
                params["cursor"] = cursor
            page = (await admin.client.get("/api/v1/users", params=params)).json()
            assert page["total"] == 3
            seen += [u["email"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert seen == ["carl@example.com", "carmen@example.com", "carol@example.com"]

    async def test_total_only_when_asked(self, users: UserFactory) -> None:
        admin = await users.create(role="admin")

        page = (await admin.client.get("/api/v1/users")).json()

        assert set(page) == {"items", "next_cursor"}

    async def test_regex_characters_in_prefix_are_literal(self, users: UserFactory) -> None:
        admin = await users.create(role="admin")

        page = (await admin.client.get("/api/v1/users", params={"email_prefix": ".*"})).json()

        assert page["items"] == []

    @pytest.mark.parametrize("cursor", ["garbage", "AAAA", "eyJzIjoidXNlcnMifQ"])
    async def test_tampered_cursor_is_422(self, users: UserFactory, cursor: str) -> None:
        admin = await users.create(role="admin")

        response = await admin.client.get("/api/v1/users", params={"cursor": cursor})

        assert "query.cursor" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]

    @pytest.mark.parametrize("limit", [0, 101, "ten"])
    async def test_bad_limit_is_422(self, users: UserFactory, limit: Any) -> None:
        admin = await users.create(role="admin")

        response = await admin.client.get("/api/v1/users", params={"limit": limit})

        assert "query.limit" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]

    async def test_promote_and_demote(self, users: UserFactory) -> None:
        admin = await users.create(role="admin")
        alice = await users.create()

        promoted = await admin.client.patch(f"/api/v1/users/{alice.id}", json={"role": "admin"})

        assert promoted.json()["role"] == "admin"
        assert (await alice.client.get("/api/v1/users")).status_code == 200
        demoted = await alice.client.patch(f"/api/v1/users/{admin.id}", json={"role": "user"})
        assert demoted.json()["role"] == "user"

    async def test_last_active_admin_can_be_neither_demoted_nor_disabled(self, users: UserFactory) -> None:
        admin = await users.create(role="admin")
        other = await users.create(role="admin")
        await admin.client.patch(f"/api/v1/users/{other.id}", json={"disabled": True})

        problem(
            await admin.client.patch(f"/api/v1/users/{admin.id}", json={"role": "user"}), 409, "LAST_ADMIN"
        )
        problem(
            await admin.client.patch(f"/api/v1/users/{admin.id}", json={"disabled": True}), 409, "LAST_ADMIN"
        )
        assert (await admin.client.get(ME)).json()["role"] == "admin"

    async def test_unknown_and_malformed_ids_are_404(self, users: UserFactory) -> None:
        admin = await users.create(role="admin")

        for user_id in ["0" * 24, "nope", "f" * 25]:
            problem(await admin.client.get(f"/api/v1/users/{user_id}"), 404, "USER_NOT_FOUND")
            problem(await admin.client.patch(f"/api/v1/users/{user_id}", json={}), 404, "USER_NOT_FOUND")

    async def test_invalid_role_is_422(self, users: UserFactory) -> None:
        admin = await users.create(role="admin")

        response = await admin.client.patch(f"/api/v1/users/{admin.id}", json={"role": "superuser"})

        assert "role" in problem(response, 422, "VALIDATION_FAILED")["field_errors"]
