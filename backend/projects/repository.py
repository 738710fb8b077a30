"""Every query of projects (their task counters included)."""

from collections.abc import Collection
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from backend.core.storage.db import by_id, collection
from backend.projects.documents import Project


class ProjectRepository:
    async def insert(self, project: Project) -> None:
        """Raises DuplicateKeyError when the key is taken."""
        await project.insert()

    async def by_id(self, project_id: PydanticObjectId) -> Project | None:
        return await by_id(Project, project_id)

    async def by_ids(self, project_ids: Collection[PydanticObjectId]) -> list[Project]:
        """These projects, in one query on the _id index (those that no longer exist are missing)."""
        if not project_ids:
            return []
        return await Project.find({"_id": {"$in": sorted(project_ids)}}).to_list()

    async def of_member(self, user_id: PydanticObjectId) -> list[Project]:
        """Every project with this member, archived or not (the members index serves it)."""
        return await Project.find({"members.user_id": user_id}).to_list()

    async def by_key(self, key: str) -> Project | None:
        return await Project.find_one(Project.key == key)

    async def newest_first(self, query: dict[str, Any], limit: int) -> list[Project]:
        return await Project.find(query).sort("-_id").limit(limit).to_list()

    async def count(self, conditions: dict[str, Any]) -> int:
        return await Project.find(conditions).count()

    async def set_if_version(
        self, project_id: PydanticObjectId, version: int, changes: dict[str, Any]
    ) -> bool:
        """Apply `changes` (and the next version) if the project is still at `version`."""
        result = await collection(Project).update_one(
            {"_id": project_id, "version": version}, {"$set": changes, "$inc": {"version": 1}}
        )
        return bool(result.modified_count == 1)

    async def next_task_number(self, project_id: PydanticObjectId, count: int = 1) -> tuple[int, str] | None:
        """The next number of the project's counter and the project's key, in one atomic `$inc` (never a
        duplicate or a gap); None when the project is archived (checked in the same update). With a
        `count`, that many numbers are taken at once: the first of them is returned, the others follow."""
        counted = await collection(Project).find_one_and_update(
            {"_id": project_id, "archived": False},
            {"$inc": {"task_counter": count}},
            projection={"task_counter": 1, "key": 1},
            return_document=ReturnDocument.AFTER,
        )
        return None if counted is None else (int(counted["task_counter"]) - count + 1, str(counted["key"]))
