"""The one query of statistics: an aggregation over a project's live tasks, with stages that run alike
on the mock, the test server and MongoDB ($match, $facet, $group, $unwind, $dateToString): no
$count, $sortByCount or $dateTrunc."""

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from backend.core.storage.db import aggregate, collection
from backend.tasks.documents import Task, TaskStatus

OPEN_EXCLUDED = [TaskStatus.DONE.value, TaskStatus.CANCELED.value]
_COUNT = {"$group": {"_id": None, "n": {"$sum": 1}}}


def _per_day(field: str, start: datetime) -> list[dict[str, Any]]:
    return [
        {"$match": {field: {"$gte": start}}},
        {"$group": {"_id": {"$dateToString": {"format": "%Y-%m-%d", "date": f"${field}"}}, "n": {"$sum": 1}}},
    ]


class TaskFacets:
    async def of_project(
        self, project_id: PydanticObjectId, *, start: datetime, now: datetime
    ) -> dict[str, Any]:
        """Counts by status, priority and assignee, unassigned and overdue, and per day since `start`."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"project_id": project_id, "deleted_at": None}},
            {
                "$facet": {
                    "total": [_COUNT],
                    "status": [{"$group": {"_id": "$status", "n": {"$sum": 1}}}],
                    "priority": [{"$group": {"_id": "$priority", "n": {"$sum": 1}}}],
                    "assignee": [
                        {"$unwind": "$assignee_ids"},
                        {"$group": {"_id": "$assignee_ids", "n": {"$sum": 1}}},
                    ],
                    "unassigned": [{"$match": {"assignee_ids": {"$size": 0}}}, _COUNT],
                    "overdue": [
                        {"$match": {"status": {"$nin": OPEN_EXCLUDED}, "due_at": {"$lt": now}}},
                        _COUNT,
                    ],
                    "created": _per_day("created_at", start),
                    "completed": _per_day("completed_at", start),
                }
            },
        ]
        (facets,) = await aggregate(collection(Task), pipeline)
        return dict(facets)
