from typing import Any

import httpx

from backend.testing import Team


def labels_url(team: Team) -> str:
    return f"{team.project_url}/labels"


async def make_label(team: Team, name: str, color: str = "#112233", **fields: Any) -> dict[str, Any]:
    response = await team.member.client.post(labels_url(team), json={"name": name, "color": color, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def names(client: httpx.AsyncClient, url: str, **params: Any) -> list[str]:
    """Every name of the list, page by page."""
    seen: list[str] = []
    while True:
        page = await client.get(url, params=params)
        assert page.status_code == 200, page.text
        seen += [label["name"] for label in page.json()["items"]]
        if not page.json()["next_cursor"]:
            return seen
        params["cursor"] = page.json()["next_cursor"]
