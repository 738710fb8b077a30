"""Register, login, refresh rotation, logout and token validation, through HTTP."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from backend.auth.documents import RefreshToken
from backend.core.config import Settings
from backend.resources import resources_of
from backend.testing import DEFAULT_PASSWORD, UserFactory, make_test_settings, problem

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def assert_unauthorized(response: httpx.Response, error_code: str = "INVALID_TOKEN") -> None:
    problem(response, 401, error_code)
    assert response.headers["www-authenticate"].startswith("Bearer")


class TestRegister:
    async def test_creates_user_with_normalised_email(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            REGISTER,
            json={"email": "  Ada@Example.COM ", "password": DEFAULT_PASSWORD, "display_name": "Ada"},
        )

        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "ada@example.com"
        assert body["display_name"] == "Ada"
        assert body["role"] == "user"
        assert body["disabled"] is False
        assert response.headers["location"] == f"/api/v1/users/{body['id']}"
        assert "password" not in response.text
        assert "hash" not in response.text

    async def test_password_is_stored_as_argon2_hash(self, client: httpx.AsyncClient, db: Any) -> None:
        await client.post(
            REGISTER, json={"email": "h@example.com", "password": DEFAULT_PASSWORD, "display_name": "H"}
        )

        stored = await db["users"].find_one({"email_normalized": "h@example.com"})
        assert stored["password_hash"].startswith("$argon2id$")
        assert DEFAULT_PASSWORD not in str(stored)

    async def test_email_taken_regardless_of_case(self, client: httpx.AsyncClient) -> None:
        first = {"email": "dup@example.com", "password": DEFAULT_PASSWORD, "display_name": "One"}
        await client.post(REGISTER, json=first)

        response = await client.post(REGISTER, json={**first, "email": "DUP@example.com"})

        problem(response, 409, "EMAIL_TAKEN")

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"password": DEFAULT_PASSWORD, "display_name": "X"}, "email"),
            ({"email": "x@example.com", "display_name": "X"}, "password"),
            ({"email": "x@example.com", "password": DEFAULT_PASSWORD}, "display_name"),
            ({"email": "not-an-email", "password": DEFAULT_PASSWORD, "display_name": "X"}, "email"),
            ({"email": "x@example.com", "password": "short", "display_name": "X"}, "password"),
            ({"email": "x@example.com", "password": "p" * 129, "display_name": "X"}, "password"),
            ({"email": "x@example.com", "password": DEFAULT_PASSWORD, "display_name": ""}, "display_name"),
            ({"email": "x@example.com", "password": DEFAULT_PASSWORD, "display_name": "   "}, "display_name"),
            (
                {"email": "x@example.com", "password": DEFAULT_PASSWORD, "display_name": "d" * 81},
                "display_name",
            ),
            (
                {"email": "x@example.com", "password": DEFAULT_PASSWORD, "display_name": "d" * 10_000},
                "display_name",
            ),
            (
                {"email": "e" * 10_000 + "@example.com", "password": DEFAULT_PASSWORD, "display_name": "X"},
                "email",
            ),
            ({"email": 42, "password": DEFAULT_PASSWORD, "display_name": "X"}, "email"),
            ({"email": "x@example.com", "password": ["list"], "display_name": "X"}, "password"),
            ({"email": "x@example.com", "password": DEFAULT_PASSWORD, "display_name": None}, "display_name"),
            ({"email": "x@exam\u0000ple.com", "password": DEFAULT_PASSWORD, "display_name": "X"}, "email"),
            (
                {
                    "email": "x@example.com",
                    "password": DEFAULT_PASSWORD,
                    "display_name": "X",
                    "role": "admin",
                },
                "role",
            ),
        ],
    )
    async def test_invalid_input_is_422_with_field_errors(
        self, client: httpx.AsyncClient, payload: dict[str, Any], field: str
    ) -> None:
        response = await client.post(REGISTER, json=payload)

        body = problem(response, 422, "VALIDATION_FAILED")
        assert field in body["field_errors"]

    async def test_password_equal_to_email_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            REGISTER, json={"email": "same@example.com", "password": "Same@Example.com", "display_name": "S"}
        )

        body = problem(response, 422, "VALIDATION_FAILED")
        assert "must not be the email" in str(body["field_errors"])

    @pytest.mark.parametrize("name", ["Zoë 🚀", "李小龙", "O'Brien-Smith", "\u200bzero-width"])
    async def test_unicode_display_names_are_kept(self, client: httpx.AsyncClient, name: str) -> None:
        response = await client.post(
            REGISTER, json={"email": "u@example.com", "password": DEFAULT_PASSWORD, "display_name": name}
        )

        assert response.status_code == 201
        assert response.json()["display_name"] == name

    async def test_non_json_body_is_a_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            REGISTER, content=b"email=a", headers={"content-type": "application/json"}
        )

        problem(response, 422, "MALFORMED_JSON")

    async def test_json_array_body_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=["not", "an", "object"])

        problem(response, 422, "VALIDATION_FAILED")


class TestLogin:
    async def test_returns_bearer_access_and_refresh_tokens(
        self, client: httpx.AsyncClient, users: UserFactory, settings: Settings
    ) -> None:
        alice = await users.create()

        response = await client.post(
            TOKEN, data={"username": alice.email.upper(), "password": alice.password}
        )

        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == settings.access_token_ttl_seconds
        assert body["refresh_token"].startswith("tlr_")
        claims = jwt.decode(
            body["access_token"], settings.jwt_secret.get_secret_value(), algorithms=["HS256"]
        )
        assert claims["sub"] == alice.id
        assert claims["typ"] == "access"
        assert {"exp", "iat", "jti"} <= set(claims)

    async def test_unknown_email_and_wrong_password_answer_alike(
        self, client: httpx.AsyncClient, users: UserFactory, app: FastAPI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        alice = await users.create()
        verified: list[str | None] = []
        real_verify = resources_of(app).hasher.verify

        def spy(password: str, password_hash: str | None) -> bool:
            verified.append(password_hash)
            return bool(real_verify(password, password_hash))

        monkeypatch.setattr(resources_of(app).hasher, "verify", spy)

        wrong = await client.post(TOKEN, data={"username": alice.email, "password": "wrong password!"})
        unknown = await client.post(
            TOKEN, data={"username": "nobody@example.com", "password": "wrong password!"}
        )

        for response in (wrong, unknown):
            assert_unauthorized(response, "INVALID_CREDENTIALS")
        strip = ("request_id", "instance")
        assert {k: v for k, v in wrong.json().items() if k not in strip} == {
            k: v for k, v in unknown.json().items() if k not in strip
        }
        # Both paths run one argon2 verification: the unknown email against a dummy hash.
        assert len(verified) == 2
        assert verified[0] is not None
        assert verified[1] is None

    async def test_missing_form_fields_are_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post(TOKEN, data={"username": "a@example.com"})

        body = problem(response, 422, "VALIDATION_FAILED")
        assert "password" in body["field_errors"]

    async def test_json_body_is_415(self, client: httpx.AsyncClient) -> None:
        response = await client.post(TOKEN, json={"username": "a@example.com", "password": "x"})

        problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


class TestLoginRateLimit:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_test_settings(login_rate_limit_per_email="2/second", login_rate_limit_per_ip="100/minute")

    async def test_429_with_retry_after_then_recovers(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()  # logs in once: the first attempt of the window
        # Windows are whole seconds of the clock: start just after one begins, so that the three
        # attempts fall in one window (across a boundary the sliding window rightly allows a third).
        await asyncio.sleep(1.05 + (1 - time.time() % 1))
        attempts = [
            await client.post(TOKEN, data={"username": alice.email, "password": "wrong password!"})
            for _ in range(3)
        ]

        assert [a.status_code for a in attempts] == [401, 401, 429]
        limited = problem(attempts[2], 429, "RATE_LIMITED")
        assert int(attempts[2].headers["retry-after"]) >= 1
        assert attempts[2].headers["ratelimit-limit"] == "2"
        assert attempts[2].headers["ratelimit-remaining"] == "0"
        assert "ratelimit-reset" in attempts[2].headers
        assert "Rate limit" in limited["detail"]

        await asyncio.sleep(int(attempts[2].headers["retry-after"]) + 0.1)
        recovered = await client.post(TOKEN, data={"username": alice.email, "password": alice.password})
        assert recovered.status_code == 200

    async def test_limit_is_per_email(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice, bob = await users.create(), await users.create()
        await asyncio.sleep(1.1)
        for _ in range(3):
            await client.post(TOKEN, data={"username": alice.email, "password": "wrong password!"})

        response = await client.post(TOKEN, data={"username": bob.email, "password": bob.password})

        assert response.status_code == 200


class TestIpRateLimit:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_test_settings(login_rate_limit_per_ip="3/minute", login_rate_limit_per_email="100/minute")

    async def test_many_emails_from_one_ip_are_limited(self, client: httpx.AsyncClient) -> None:
        statuses = [
            (
                await client.post(TOKEN, data={"username": f"u{i}@example.com", "password": "x" * 10})
            ).status_code
            for i in range(4)
        ]

        assert statuses == [401, 401, 401, 429]


class TestRefresh:
    async def test_rotates_and_old_token_is_spent(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()

        rotated = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})

        assert rotated.status_code == 200
        pair = rotated.json()
        assert pair["refresh_token"] != alice.refresh_token
        me = await client.get(ME, headers={"Authorization": f"Bearer {pair['access_token']}"})
        assert me.json()["id"] == alice.id

    async def test_reuse_revokes_the_whole_family(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        rotated = (await client.post(REFRESH, json={"refresh_token": alice.refresh_token})).json()

        reused = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})
        after_reuse = await client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})

        assert_unauthorized(reused, "REFRESH_TOKEN_REUSED")
        assert_unauthorized(after_reuse, "INVALID_REFRESH_TOKEN")

    async def test_reuse_leaves_other_sessions_alone(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()
        other = await users.login(alice.email)
        await client.post(REFRESH, json={"refresh_token": alice.refresh_token})
        await client.post(REFRESH, json={"refresh_token": alice.refresh_token})

        response = await client.post(REFRESH, json={"refresh_token": other["refresh_token"]})

        assert response.status_code == 200

    @pytest.mark.parametrize("token", ["tlr_unknown", "x" * 256])
    async def test_unknown_token_is_401(self, client: httpx.AsyncClient, token: str) -> None:
        assert_unauthorized(
            await client.post(REFRESH, json={"refresh_token": token}), "INVALID_REFRESH_TOKEN"
        )

    async def test_expired_token_is_401(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()
        await RefreshToken.find_all().update(
            {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
        )

        response = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})

        assert_unauthorized(response, "INVALID_REFRESH_TOKEN")

    async def test_missing_or_oversized_token_is_422(self, client: httpx.AsyncClient) -> None:
        problem(await client.post(REFRESH, json={}), 422, "VALIDATION_FAILED")
        problem(await client.post(REFRESH, json={"refresh_token": "x" * 10_000}), 422, "VALIDATION_FAILED")


class TestLogout:
    async def test_revokes_access_token_and_refresh_family(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()

        response = await alice.client.post(LOGOUT, json={"refresh_token": alice.refresh_token})

        assert response.status_code == 204
        assert_unauthorized(await alice.client.get(ME))
        refreshed = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})
        assert_unauthorized(refreshed, "INVALID_REFRESH_TOKEN")

    async def test_without_body_ends_the_current_session(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.create()

        assert (await alice.client.post(LOGOUT)).status_code == 204

        assert_unauthorized(
            await client.post(REFRESH, json={"refresh_token": alice.refresh_token}), "INVALID_REFRESH_TOKEN"
        )

    async def test_cannot_revoke_someone_elses_session(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice, mallory = await users.create(), await users.create()

        await mallory.client.post(LOGOUT, json={"refresh_token": alice.refresh_token})

        assert (await client.post(REFRESH, json={"refresh_token": alice.refresh_token})).status_code == 200

    async def test_requires_authentication(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.post(LOGOUT), "NOT_AUTHENTICATED")


class TestBadAccessTokens:
    def forge(self, settings: Settings, **claims: Any) -> str:
        now = int(time.time())
        base = {"sub": "0" * 24, "iat": now, "exp": now + 60, "jti": "j", "typ": "access"}
        return jwt.encode({**base, **claims}, settings.jwt_secret.get_secret_value(), algorithm="HS256")

    async def test_expired(self, client: httpx.AsyncClient, users: UserFactory, settings: Settings) -> None:
        alice = await users.create()
        token = self.forge(settings, sub=alice.id, iat=int(time.time()) - 120, exp=int(time.time()) - 60)

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))

    async def test_tampered(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()
        header, payload, signature = alice.access_token.split(".")
        tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {tampered}"}))

    async def test_signed_with_another_secret(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()
        now = int(time.time())
        claims = {"sub": alice.id, "iat": now, "exp": now + 60, "jti": "j", "typ": "access"}
        token = jwt.encode(claims, "another-secret-of-sufficient-length!!", algorithm="HS256")

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))

    async def test_alg_none(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()
        now = int(time.time())
        claims = {"sub": alice.id, "iat": now, "exp": now + 60, "jti": "j", "typ": "access"}
        token = jwt.encode(claims, None, algorithm="none")

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))

    async def test_wrong_type(
        self, client: httpx.AsyncClient, users: UserFactory, settings: Settings
    ) -> None:
        alice = await users.create()
        token = self.forge(settings, sub=alice.id, typ="refresh")

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))

    async def test_refresh_token_as_bearer(self, client: httpx.AsyncClient, users: UserFactory) -> None:
        alice = await users.create()

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {alice.refresh_token}"}))

    async def test_missing_claim(
        self, client: httpx.AsyncClient, users: UserFactory, settings: Settings
    ) -> None:
        alice = await users.create()
        now = int(time.time())
        token = jwt.encode(
            {"sub": alice.id, "exp": now + 60, "typ": "access"}, settings.jwt_secret.get_secret_value()
        )

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))

    async def test_unknown_subject(self, client: httpx.AsyncClient, settings: Settings) -> None:
        token = self.forge(settings, sub="not-an-id")

        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))

    @pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "Bearer  ", "bearer"])
    async def test_missing_or_other_scheme(self, client: httpx.AsyncClient, header: str) -> None:
        assert_unauthorized(await client.get(ME, headers={"Authorization": header}), "NOT_AUTHENTICATED")

    async def test_no_header(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get(ME), "NOT_AUTHENTICATED")


class TestDisabledUser:
    async def test_cannot_log_in_refresh_or_use_tokens(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        admin = await users.create(role="admin")
        alice = await users.create()
        pat = (await alice.client.post(f"{ME}/tokens", json={"name": "ci"})).json()["token"]

        disabled = await admin.client.patch(f"/api/v1/users/{alice.id}", json={"disabled": True})
        assert disabled.status_code == 200

        problem(
            await client.post(TOKEN, data={"username": alice.email, "password": alice.password}),
            403,
            "ACCOUNT_DISABLED",
        )
        problem(
            await client.post(REFRESH, json={"refresh_token": alice.refresh_token}), 403, "ACCOUNT_DISABLED"
        )
        assert_unauthorized(await alice.client.get(ME))
        assert_unauthorized(await client.get(ME, headers={"Authorization": f"Bearer {pat}"}))

    async def test_wrong_password_of_disabled_user_says_invalid_credentials(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        admin = await users.create(role="admin")
        alice = await users.create()
        await admin.client.patch(f"/api/v1/users/{alice.id}", json={"disabled": True})

        response = await client.post(TOKEN, data={"username": alice.email, "password": "wrong password!"})

        assert_unauthorized(response, "INVALID_CREDENTIALS")
