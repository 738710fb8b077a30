"""Every task endpoint answers each kind of caller exactly as documented, and hides foreign projects."""

from typing import Any

import httpx
import pytest

from backend.testing import UserFactory, make_team

CALLERS = ("anonymous", "outsider", "viewer", "member", "admin", "owner", "global_admin")
MATRIX: dict[str, tuple[str, str, Any, tuple[int, ...]]] = {
    "create": ("POST", "", {"title": "x"}, (401, 404, 403, 201, 201, 201, 403)),
    "list": ("GET", "", None, (401, 404, 200, 200, 200, 200, 200)),
    "bulk update": (
        "POST",
        "/bulk-update",
        {"ids": ["{task}"], "set": {"status": "done"}},
        (401, 404, 403, 200, 200, 200, 403),
    ),
    "get": ("GET", "/{task}", None, (401, 404, 200, 200, 200, 200, 200)),
    "update": ("PATCH", "/{task}", {"title": "y"}, (401, 404, 403, 200, 200, 200, 403)),
    "delete": ("DELETE", "/{task}", None, (401, 404, 403, 204, 204, 204, 403)),
    "restore": ("POST", "/{deleted}/restore", None, (401, 404, 403, 200, 200, 200, 403)),
    "get by key": ("GET", "KEY", None, (401, 404, 200, 200, 200, 200, 200)),
}


@pytest.mark.parametrize("caller", range(len(CALLERS)), ids=CALLERS)
@pytest.mark.parametrize("operation", list(MATRIX))
async def test_task_isolation_matrix(
    users: UserFactory, client: httpx.AsyncClient, operation: str, caller: int
) -> None:
    team = await make_team(users)
    global_admin = await users.create(role="admin")
    task = (await team.member.client.post(team.tasks_url, json={"title": "Confidential roadmap"})).json()
    deleted = (await team.member.client.post(team.tasks_url, json={"title": "Old secret"})).json()
    await team.member.client.delete(f"{team.tasks_url}/{deleted['id']}")
    method, suffix, body, expected = MATRIX[operation]
    ids = {"task": task["id"], "deleted": deleted["id"]}
    url = "/api/v1/tasks/WEB-1" if suffix == "KEY" else team.tasks_url + suffix.format(**ids)
    if isinstance(body, dict):
        body = {k: [i.format(**ids) for i in v] if isinstance(v, list) else v for k, v in body.items()}
    name = CALLERS[caller]
    http = {"anonymous": client, "global_admin": global_admin.client}.get(name) or getattr(team, name).client

    response = await http.request(method, url, json=body)

    assert response.status_code == expected[caller], response.text
    if response.status_code in (401, 404):
        # The instance echoes the caller's own URL; nothing else may name the project or its tasks.
        shown = str({k: v for k, v in response.json().items() if k != "instance"})
        for secret in ("Confidential", "Old secret", "Website", "WEB-", task["id"]):
            assert secret not in shown
