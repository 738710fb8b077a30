"""Statistics equal a brute-force count over the same tasks, UTC day boundaries included."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId

from backend.core.storage.db import Database
from backend.core.time import as_utc
from backend.testing import Team

STATUSES = ["backlog", "todo", "in_progress", "in_review", "done", "canceled"]


def expected_stats(
    docs: list[dict[str, Any]], days: int, names: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    live = [d for d in docs if d["deleted_at"] is None]
    first_day = now.date() - timedelta(days=days - 1)
    by_assignee = Counter(str(a) for d in live for a in d["assignee_ids"])

    def day_of(value: datetime | None) -> date | None:
        return as_utc(value).date() if value is not None else None

    created = Counter(day_of(d["created_at"]) for d in live)
    completed = Counter(day_of(d["completed_at"]) for d in live if d["completed_at"] is not None)
    return {
        "total": len(live),
        "by_status": [{"status": s, "count": sum(d["status"] == s for d in live)} for s in STATUSES],
        "by_priority": [{"priority": p, "count": sum(d["priority"] == p for d in live)} for p in range(5)],
        "by_assignee": [
            {"user_id": u, "display_name": names[u][0], "handle": names[u][1], "count": n}
            for u, n in sorted(by_assignee.items(), key=lambda item: (-item[1], item[0]))
        ],
        "unassigned": sum(not d["assignee_ids"] for d in live),
        "overdue": sum(
            d["status"] not in ("done", "canceled") and d["due_at"] is not None and as_utc(d["due_at"]) < now
            for d in live
        ),
        "daily": [
            {
                "date": (day := first_day + timedelta(days=i)).isoformat(),
                "created": created.get(day, 0),
                "completed": completed.get(day, 0),
            }
            for i in range(days)
        ],
    }


@pytest.mark.parametrize("days", [1, 7, 30])
async def test_stats_match_brute_force(team: Team, db: Database, days: int) -> None:
    rng = random.Random(days)
    assignees = [team.member.id, team.admin.id, team.owner.id]
    ids = []
    for i in range(30):
        body = {
            "title": f"t{i}",
            "status": rng.choice(STATUSES),
            "priority": rng.randrange(5),
            "assignee_ids": rng.sample(assignees, rng.randrange(3)),
        }
        if rng.random() < 0.6:
            body["due_at"] = (datetime.now(UTC) + timedelta(hours=rng.randrange(-72, 72))).isoformat()
        ids.append((await team.member.client.post(team.tasks_url, json=body)).json()["id"])
    await team.member.client.delete(f"{team.tasks_url}/{ids[0]}")
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight - timedelta(days=days - 1)
    boundaries = [
        midnight,
        midnight - timedelta(milliseconds=1),
        first,
        first - timedelta(milliseconds=1),
        midnight - timedelta(days=3, milliseconds=1),
    ]
    for task_id in ids[1:]:
        created = rng.choice(boundaries)
        changes: dict[str, Any] = {"created_at": created}
        if rng.random() < 0.5:
            changes["completed_at"] = rng.choice(boundaries)
        await db["tasks"].update_one({"_id": PydanticObjectId(task_id)}, {"$set": changes})
    docs = await db["tasks"].find({"project_id": PydanticObjectId(team.project["id"])}).to_list(None)
    names = {
        team.member.id: ("Max", team.member.handle),
        team.admin.id: ("Ada", team.admin.handle),
        team.owner.id: ("Olive", team.owner.handle),
    }

    response = await team.viewer.client.get(f"{team.project_url}/stats", params={"days": days})

    assert response.status_code == 200
    assert response.json() == expected_stats(docs, days, names)


async def test_default_is_thirty_zero_filled_days(team: Team) -> None:
    stats = (await team.member.client.get(f"{team.project_url}/stats")).json()

    assert len(stats["daily"]) == 30
    assert stats["daily"][-1] == {"date": datetime.now(UTC).date().isoformat(), "created": 0, "completed": 0}
    assert stats["total"] == 0


@pytest.mark.parametrize("days", [0, 91, "week"])
async def test_bad_days_is_422(team: Team, days: Any) -> None:
    response = await team.member.client.get(f"{team.project_url}/stats", params={"days": days})

    assert response.status_code == 422
    assert "query.days" in response.json()["field_errors"]


async def test_outsider_gets_404(team: Team) -> None:
    assert (await team.outsider.client.get(f"{team.project_url}/stats")).status_code == 404
