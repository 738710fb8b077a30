"""Handles: unique in any case, chosen at register or made from the email, changeable, and shown
wherever a person is summarised."""

import httpx
import pytest

from backend.testing import Team, UserFactory, problem

REGISTER = "/api/v1/auth/register"
ME = "/api/v1/users/me"


def account(email: str, **extra: str) -> dict[str, str]:
    return {"email": email, "password": "correct horse battery", "display_name": "Someone", **extra}


class TestRegister:
    async def test_a_chosen_handle_is_stored_lower_cased(self, users: UserFactory) -> None:
        ada = await users.create(email="ada@example.com", handle="Ada_L")

        assert ada.handle == "ada_l"
        assert (await ada.client.get(ME)).json()["handle"] == "ada_l"

    async def test_without_one_it_is_made_from_the_email_and_made_unique(self, users: UserFactory) -> None:
        first = await users.create(email="Grace.Hopper@example.com")
        second = await users.create(email="grace.hopper@example.org")
        third = await users.create(email="grace.hopper@example.net")

        assert [first.handle, second.handle, third.handle] == [
            "grace_hopper",
            "grace_hopper2",
            "grace_hopper3",
        ]

    async def test_a_taken_handle_in_any_case_is_409(
        self, users: UserFactory, client: httpx.AsyncClient
    ) -> None:
        await users.create(handle="linus")
        response = await client.post(REGISTER, json=account("other@example.com", handle="LINUS"))

        problem(response, 409, "HANDLE_TAKEN")
        # Nothing was stored: the email is still free.
        assert (await client.post(REGISTER, json=account("other@example.com"))).status_code == 201

    async def test_the_email_taken_is_still_email_taken(
        self, users: UserFactory, client: httpx.AsyncClient
    ) -> None:
        await users.create(email="dup@example.com", handle="dup")

        response = await client.post(REGISTER, json=account("dup@example.com", handle="another"))

        problem(response, 409, "EMAIL_TAKEN")

    @pytest.mark.parametrize("handle", ["a", "x" * 31, "has space", "dot.ted", "ümlaut", "@ada"])
    async def test_an_invalid_handle_is_422(self, client: httpx.AsyncClient, handle: str) -> None:
        response = await client.post(REGISTER, json=account("valid@example.com", handle=handle))

        problem(response, 422, "VALIDATION_FAILED")


class TestChange:
    async def test_changes_in_patch_me(self, users: UserFactory) -> None:
        ada = await users.create()

        response = await ada.client.patch(ME, json={"handle": "Countess"})

        assert response.status_code == 200
        assert response.json()["handle"] == "countess"
        assert (await ada.client.get(ME)).json()["handle"] == "countess"

    async def test_another_accounts_handle_is_409_and_nothing_changes(self, users: UserFactory) -> None:
        ada = await users.create(handle="ada")
        max_ = await users.create(handle="max", display_name="Max")

        response = await max_.client.patch(ME, json={"handle": "ADA", "display_name": "Maxi"})

        problem(response, 409, "HANDLE_TAKEN")
        me = (await max_.client.get(ME)).json()
        assert (me["handle"], me["display_name"]) == ("max", "Max")
        assert ada.handle == "ada"

    async def test_keeping_your_own_handle_in_another_case_is_fine(self, users: UserFactory) -> None:
        ada = await users.create(handle="ada")

        response = await ada.client.patch(ME, json={"handle": "ADA"})

        assert response.status_code == 200
        assert response.json()["handle"] == "ada"


class TestShown:
    async def test_in_member_lists_and_task_and_comment_summaries(self, team: Team) -> None:
        members = (await team.viewer.client.get(f"{team.project_url}/members")).json()["items"]
        assert {m["user_id"]: m["handle"] for m in members}[team.member.id] == team.member.handle
        created = await team.member.client.post(
            team.tasks_url, json={"title": "t", "assignee_ids": [team.member.id]}
        )
        task = created.json()
        assert task["assignees"][0]["handle"] == team.member.handle
        comment = await team.member.client.post(
            f"{team.tasks_url}/{task['id']}/comments", json={"body": "hi"}
        )
        assert comment.json()["author"]["handle"] == team.member.handle

    async def test_a_changed_handle_shows_in_new_answers(self, team: Team) -> None:
        await team.member.client.patch(ME, json={"handle": "maxwell"})

        members = (await team.owner.client.get(f"{team.project_url}/members/{team.member.id}")).json()

        assert members["handle"] == "maxwell"
