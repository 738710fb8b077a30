"""Times at the ends of the calendar: refused as invalid input (422), never a 500 from converting
them to UTC. The check sits on the shared RFC 3339 type, so every time in a body or a query has it."""

import pytest

from backend.testing import Team
from tests.notifications.helpers import NOTIFICATIONS, new_task

# Valid RFC 3339, but their UTC instant is in year 10000 or year 0.
OUT_OF_RANGE = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"]


@pytest.mark.parametrize("up_to", OUT_OF_RANGE)
async def test_marking_read_up_to_a_time_out_of_range_is_refused(team: Team, up_to: str) -> None:
    await new_task(team, team.member, assignee_ids=[team.viewer.id])

    response = await team.viewer.client.post(f"{NOTIFICATIONS}/read", json={"up_to": up_to})

    assert response.status_code == 422, response.text
    assert response.json()["error_code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize("when", OUT_OF_RANGE)
async def test_other_time_inputs_out_of_range_are_refused(team: Team, when: str) -> None:
    created = await team.member.client.post(team.tasks_url, json={"title": "Late", "due_at": when})
    assert created.status_code == 422, created.text
    for name in ("due_before", "due_after", "updated_after"):
        listed = await team.member.client.get(team.tasks_url, params={name: when})
        assert listed.status_code == 422, (name, listed.text)
    token = await team.member.client.post("/api/v1/users/me/tokens", json={"name": "ci", "expires_at": when})
    assert token.status_code == 422, token.text
