"""Statistics with stages that run alike on the mock, the test server and MongoDB ($match, $facet,
$group, $unwind, $dateToString): no $count, $sortByCount or $dateTrunc."""

from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from backend.core.time import utcnow
from backend.stats.repository import TaskFacets
from backend.stats.schemas import AssigneeCount, DayCount, PriorityCount, ProjectStats, StatusCount
from backend.tasks.documents import Priority, TaskStatus
from backend.users.service import NOBODY, UserService


class StatsService:
    def __init__(self, users: UserService) -> None:
        self._users = users

    async def project(
        self, project_id: PydanticObjectId, *, days: int, now: datetime | None = None
    ) -> ProjectStats:
        now = now or utcnow()
        first_day = now.astimezone(UTC).date() - timedelta(days=days - 1)
        start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
        facets = await TaskFacets().of_project(project_id, start=start, now=now)

        def counts(name: str) -> dict[Any, int]:
            return {row["_id"]: int(row["n"]) for row in facets[name]}

        def single(name: str) -> int:
            return sum(counts(name).values())

        by_assignee = counts("assignee")
        people = await self._users.people(set(by_assignee))
        created, completed = counts("created"), counts("completed")
        daily = []
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            key = day.isoformat()
            daily.append(DayCount(date=day, created=created.get(key, 0), completed=completed.get(key, 0)))
        status_counts, priority_counts = counts("status"), counts("priority")
        return ProjectStats(
            total=single("total"),
            by_status=[StatusCount(status=s, count=status_counts.get(s.value, 0)) for s in TaskStatus],
            by_priority=[PriorityCount(priority=p, count=priority_counts.get(int(p), 0)) for p in Priority],
            by_assignee=sorted(
                (
                    AssigneeCount(
                        user_id=u,
                        display_name=people.get(u, NOBODY).display_name,
                        handle=people.get(u, NOBODY).handle,
                        count=n,
                    )
                    for u, n in by_assignee.items()
                ),
                key=lambda a: (-a.count, str(a.user_id)),
            ),
            unassigned=single("unassigned"),
            overdue=single("overdue"),
            daily=daily,
        )
