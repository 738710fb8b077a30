"""Every query of tasks: lookups, pages, versioned updates, and the walks of subtask chains."""

from enum import Enum
from typing import Any

from beanie import PydanticObjectId, SortDirection
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from backend.core.storage.db import Update, bulk_update, by_id, collection, duplicates_skipped
from backend.tasks.documents import Task


class Placement(Enum):
    """How a move's versioned update went."""

    APPLIED = "applied"
    STALE = "stale"  # the task changed since it was read
    RANK_TAKEN = "rank_taken"  # another card took that rank first (the unique index refused it)


class TaskRepository:
    async def insert(self, task: Task) -> None:
        await task.insert()

    async def insert_many(self, tasks: list[Task]) -> set[int]:
        """Insert the tasks in one round trip, their ids set by the caller. Unordered: a task refused
        for a taken number (only if the project's counter went back, e.g. restored from an older
        backup) does not stop the others. Returns the positions of the refused ones."""
        with duplicates_skipped() as refused:
            await Task.insert_many(tasks, ordered=False)
        return refused

    async def by_id(self, task_id: PydanticObjectId | None) -> Task | None:
        # By `_id` alone, the other conditions checked by the caller: servers answer that shape from
        # the _id index at once, while {_id, project_id, deleted_at} made SecantusDB scan the collection.
        return await by_id(Task, task_id)

    async def live_by_number(self, project_id: PydanticObjectId, number: int) -> Task | None:
        # By (project_id, number) alone, the unique index's fields: at most one task, deleted or not,
        # checked here. SecantusDB uses a compound index only for a filter of exactly its leading
        # fields, and read {project_id, number, deleted_at} through all of the project's tasks: 230
        # against 2 ms with 2,000 tasks a project. MongoDB answers both alike.
        task = await Task.find_one({"project_id": project_id, "number": number})
        return task if task is not None and task.deleted_at is None else None

    async def live_of_project(
        self, project_id: PydanticObjectId | None, ids: list[PydanticObjectId]
    ) -> list[Task]:
        return await Task.find({"_id": {"$in": ids}, "project_id": project_id, "deleted_at": None}).to_list()

    async def sorted_page(
        self, query: dict[str, Any], sort: list[tuple[str, SortDirection]], limit: int
    ) -> list[Task]:
        return await Task.find(query).sort(sort).limit(limit).to_list()

    async def count(self, conditions: dict[str, Any]) -> int:
        return await Task.find(conditions).count()

    async def update_if_version(self, condition: dict[str, Any], update: dict[str, Any]) -> bool:
        """One versioned update (`condition` names the version it expects); True when it applied."""
        result = await collection(Task).update_one(condition, update)
        return bool(result.modified_count == 1)

    async def update_all(self, updates: list[Update]) -> int:
        """Versioned updates in one round trip; how many matched."""
        return await bulk_update(collection(Task), updates)

    async def versions(self, ids: list[PydanticObjectId]) -> dict[PydanticObjectId, int]:
        found = await collection(Task).find({"_id": {"$in": ids}}, {"version": 1}).to_list(None)
        return {doc["_id"]: int(doc["version"]) for doc in found}

    async def chain_link(self, task_id: PydanticObjectId) -> dict[str, Any] | None:
        """What a subtask check needs of one task: its parent, project and deletion (by _id alone)."""
        found: dict[str, Any] | None = await collection(Task).find_one(
            {"_id": task_id}, {"parent_id": 1, "project_id": 1, "deleted_at": 1}
        )
        return found

    async def chain_links(self, task_ids: list[PydanticObjectId]) -> list[dict[str, Any]]:
        """`chain_link` of several tasks in one query (by _id alone); missing ones are left out."""
        found: list[dict[str, Any]] = (
            await collection(Task)
            .find({"_id": {"$in": task_ids}}, {"parent_id": 1, "project_id": 1, "deleted_at": 1})
            .to_list(None)
        )
        return found

    async def children_ids(
        self, project_id: PydanticObjectId, parent_ids: list[PydanticObjectId]
    ) -> list[PydanticObjectId]:
        found = (
            await collection(Task)
            .find({"project_id": project_id, "parent_id": {"$in": parent_ids}}, {"_id": 1})
            .to_list(None)
        )
        return [doc["_id"] for doc in found]

    async def cards(self, ids: list[PydanticObjectId]) -> list[dict[str, Any]]:
        """What a move needs of its neighbours: project, deletion and rank (by _id alone)."""
        found: list[dict[str, Any]] = (
            await collection(Task)
            .find({"_id": {"$in": ids}}, {"project_id": 1, "deleted_at": 1, "rank": 1, "number": 1})
            .to_list(None)
        )
        return found

    async def rank_unranked(self, task_id: PydanticObjectId, rank: str) -> str | None:
        """Gives a task without a rank this one; its rank after (None: the task is gone). Not a change
        its readers see as such: the version stays."""
        found = await collection(Task).find_one_and_update(
            {"_id": task_id, "rank": None}, {"$set": {"rank": rank}}, return_document=ReturnDocument.AFTER
        )
        if found is None:
            found = await collection(Task).find_one({"_id": task_id}, {"rank": 1})
        return None if found is None else found.get("rank")

    async def rank_next_to(
        self, project_id: PydanticObjectId, rank: str, *, below: bool, other_than: PydanticObjectId | None
    ) -> str | None:
        """The rank of the card just below (or above) `rank` on the project's board, deleted cards
        included (they keep their place for a restore), the card `other_than` skipped."""
        direction = 1 if below else -1
        found = (
            await collection(Task)
            .find({"project_id": project_id, "rank": {"$gt" if below else "$lt": rank}}, {"rank": 1})
            .sort([("rank", direction), ("_id", direction)])
            .limit(2)
            .to_list(None)
        )
        ranks = [str(card["rank"]) for card in found if card["_id"] != other_than]
        return ranks[0] if ranks else None

    async def place(self, condition: dict[str, Any], update: dict[str, Any]) -> Placement:
        """One versioned update that sets a rank, which the unique index may refuse."""
        try:
            applied = await self.update_if_version(condition, update)
        except DuplicateKeyError:
            return Placement.RANK_TAKEN
        return Placement.APPLIED if applied else Placement.STALE

    async def board(self, project_id: PydanticObjectId) -> list[dict[str, Any]]:
        """Every card of the project in rank order (deleted ones too): id, rank and version."""
        found: list[dict[str, Any]] = (
            await collection(Task)
            .find({"project_id": project_id}, {"rank": 1, "version": 1})
            .sort([("rank", 1), ("_id", 1)])
            .to_list(None)
        )
        return found

    async def rerank(self, updates: list[Update]) -> int:
        """Rank updates conditional on the rank read, in one round trip; how many matched. One that
        meets a rank a concurrent move took meanwhile is skipped: that card keeps a unique rank,
        only less compact."""
        try:
            return await bulk_update(collection(Task), updates)
        except BulkWriteError as exc:
            return int(exc.details.get("nMatched", 0))
        except DuplicateKeyError:  # the in-memory mock, which applies them one by one
            return 0
