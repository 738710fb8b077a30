"""Managing webhooks through HTTP: who may, the secret shown once, changes and their ETags."""

from typing import Any

import pytest

from backend.testing import Team, problem
from tests.webhooks.conftest import Receiver, hooks_url, make_webhook


class TestCreate:
    async def test_admin_creates_and_sees_the_secret_once(self, team: Team, receiver: Receiver) -> None:
        response = await team.admin.client.post(
            hooks_url(team), json={"url": receiver.url, "events": ["task.created", "member.added"]}
        )

        assert response.status_code == 201, response.text
        hook = response.json()
        assert hook["secret"].startswith("whsec_")
        assert response.headers["location"] == f"{hooks_url(team)}/{hook['id']}"
        assert response.headers["etag"] == '"v1"'
        assert hook["events"] == ["task.created", "member.added"]
        assert hook["active"] is True
        one = await team.owner.client.get(f"{hooks_url(team)}/{hook['id']}")
        assert one.status_code == 200
        assert "secret" not in one.json()
        assert one.json() == {k: v for k, v in hook.items() if k != "secret"}
        listed = (await team.owner.client.get(hooks_url(team))).json()
        assert listed == {"items": [one.json()], "next_cursor": None}

    @pytest.mark.parametrize("role", ["member", "viewer"])
    async def test_below_admin_gets_403(self, team: Team, receiver: Receiver, role: str) -> None:
        hook = await make_webhook(team, receiver.url)
        client = getattr(team, role).client

        problem(
            await client.post(hooks_url(team), json={"url": receiver.url, "events": ["task.created"]}),
            403,
            "INSUFFICIENT_ROLE",
        )
        problem(await client.get(hooks_url(team)), 403, "INSUFFICIENT_ROLE")
        problem(await client.get(f"{hooks_url(team)}/{hook['id']}"), 403, "INSUFFICIENT_ROLE")
        problem(await client.get(f"{hooks_url(team)}/{hook['id']}/deliveries"), 403, "INSUFFICIENT_ROLE")

    async def test_outsider_gets_404(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)

        problem(await team.outsider.client.get(f"{hooks_url(team)}/{hook['id']}"), 404, "PROJECT_NOT_FOUND")
        problem(await team.outsider.client.get(hooks_url(team)), 404, "PROJECT_NOT_FOUND")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"events": ["task.created"]}, "url"),
            ({"url": "ftp://example.com/x", "events": ["task.created"]}, "url"),
            ({"url": "https://example.com/x", "events": []}, "events"),
            ({"url": "https://example.com/x", "events": ["task.exploded"]}, "events.0"),
            ({"url": "https://example.com/x", "events": ["task.created"], "secret": "mine"}, "secret"),
        ],
    )
    async def test_invalid_bodies_are_422(self, team: Team, body: dict[str, Any], field: str) -> None:
        found = problem(await team.admin.client.post(hooks_url(team), json=body), 422, "VALIDATION_FAILED")

        assert field in found["field_errors"]


class TestChange:
    async def test_patch_changes_events_and_pauses(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)
        url = f"{hooks_url(team)}/{hook['id']}"

        response = await team.admin.client.patch(
            url, json={"events": ["comment.created"], "active": False}, headers={"If-Match": '"v1"'}
        )

        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"v2"'
        assert response.json()["events"] == ["comment.created"]
        assert response.json()["active"] is False
        assert (await team.admin.client.get(url)).json() == response.json()
        stale = await team.admin.client.patch(url, json={"active": True}, headers={"If-Match": '"v1"'})
        problem(stale, 412, "PRECONDITION_FAILED")

    async def test_rotating_the_secret_shows_a_new_one_once(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)

        response = await team.admin.client.post(f"{hooks_url(team)}/{hook['id']}/rotate-secret")

        assert response.status_code == 200, response.text
        assert response.json()["secret"].startswith("whsec_")
        assert response.json()["secret"] != hook["secret"]
        assert response.headers["etag"] == '"v2"'

    async def test_delete_then_404(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)
        url = f"{hooks_url(team)}/{hook['id']}"

        assert (await team.owner.client.delete(url)).status_code == 204

        problem(await team.owner.client.get(url), 404, "WEBHOOK_NOT_FOUND")
        assert (await team.owner.client.get(hooks_url(team))).json()["items"] == []

    async def test_another_projects_webhook_is_404(self, team: Team, receiver: Receiver) -> None:
        hook = await make_webhook(team, receiver.url)
        other = (
            await team.admin.client.post("/api/v1/projects", json={"name": "Other", "key": "OTH"})
        ).json()

        response = await team.admin.client.get(f"/api/v1/projects/{other['id']}/webhooks/{hook['id']}")

        problem(response, 404, "WEBHOOK_NOT_FOUND")


class TestTargets:
    """Targets on loopback, private, link-local or metadata addresses are refused unless allowed."""

    @pytest.mark.tasklane_settings(webhook_allow_private_targets=False)
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8000/hook",
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://100.100.100.200/hook",
            "http://0.0.0.0/hook",
            "http://user:pw@example.com/hook",
        ],
    )
    async def test_refused_when_saved(self, team: Team, url: str) -> None:
        body = {"url": url, "events": ["task.created"]}

        found = problem(
            await team.admin.client.post(hooks_url(team), json=body), 422, "WEBHOOK_TARGET_REFUSED"
        )

        assert "refused" in found["detail"]
        assert (await team.admin.client.get(hooks_url(team))).json()["items"] == []

    @pytest.mark.tasklane_settings(webhook_allow_private_targets=False)
    async def test_a_public_literal_address_is_accepted(self, team: Team) -> None:
        body = {"url": "https://93.184.215.14/hook", "events": ["task.created"]}

        assert (await team.admin.client.post(hooks_url(team), json=body)).status_code == 201

    @pytest.mark.tasklane_settings(webhook_allow_private_targets=False)
    async def test_patch_to_a_private_address_is_refused(self, team: Team) -> None:
        body = {"url": "https://93.184.215.14/hook", "events": ["task.created"]}
        hook = (await team.admin.client.post(hooks_url(team), json=body)).json()

        response = await team.admin.client.patch(
            f"{hooks_url(team)}/{hook['id']}", json={"url": "http://10.0.0.1/"}
        )

        problem(response, 422, "WEBHOOK_TARGET_REFUSED")
