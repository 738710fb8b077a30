"""Emails are one address however they are spelt: NFKC and case folding, alike at register and login."""

import httpx

from backend.testing import DEFAULT_PASSWORD, problem

REGISTER = "/api/v1/auth/register"


async def test_a_full_width_look_alike_is_the_same_address(client: httpx.AsyncClient) -> None:
    first = {"email": "case@x.example", "password": DEFAULT_PASSWORD, "display_name": "One"}
    assert (await client.post(REGISTER, json=first)).status_code == 201

    again = await client.post(REGISTER, json={**first, "email": "\uff43ASE@x.example"})

    problem(again, 409, "EMAIL_TAKEN")


async def test_login_accepts_any_spelling_of_the_address(client: httpx.AsyncClient) -> None:
    await client.post(
        REGISTER, json={"email": "stra\u00dfe@x.example", "password": DEFAULT_PASSWORD, "display_name": "S"}
    )

    login = await client.post(
        "/api/v1/auth/token", data={"username": "STRASSE@x.example", "password": DEFAULT_PASSWORD}
    )

    assert login.status_code == 200, login.text
