"""Every query of relations, and the batched reads of the tasks and projects at their other ends."""

from dataclasses import dataclass

from beanie import PydanticObjectId

from backend.core.pagination import CursorCodec
from backend.core.storage.db import by_id, collection
from backend.core.storage.pages import time_ordered_page
from backend.projects.documents import Project
from backend.relations.documents import RelationType, TaskRelation
from backend.tasks.documents import Task, TaskStatus

# What a relation shows of the task at its other end, and what deciding whether to show it needs.
_SUMMARY = {"project_id": 1, "key": 1, "title": 1, "status": 1, "deleted_at": 1}


@dataclass(frozen=True, slots=True)
class TaskEnd:
    """A task at one end of a relation, as much of it as relations read."""

    id: PydanticObjectId
    project_id: PydanticObjectId
    key: str
    title: str
    status: TaskStatus
    deleted: bool

    @classmethod
    def of(cls, task: Task) -> "TaskEnd":
        assert task.id is not None
        return cls(task.id, task.project_id, task.key, task.title, task.status, task.deleted_at is not None)


class RelationRepository:
    async def insert(self, relation: TaskRelation) -> None:
        """Raises DuplicateKeyError when the two tasks already have a relation of this type."""
        await relation.insert()

    async def by_id(self, relation_id: PydanticObjectId) -> TaskRelation | None:
        return await by_id(TaskRelation, relation_id)

    async def delete(self, relation: TaskRelation) -> bool:
        """False when it was gone already (removed by a concurrent request)."""
        result = await collection(TaskRelation).delete_one({"_id": relation.id})
        return bool(result.deleted_count == 1)

    async def of_task_oldest_first(
        self, task_id: PydanticObjectId, *, codec: CursorCodec, cursor: str | None, limit: int
    ) -> tuple[list[TaskRelation], str | None]:
        """Relations with the task at either end; each branch of the `$or` has its index."""
        return await time_ordered_page(
            TaskRelation,
            {"$or": [{"source_task_id": task_id}, {"target_task_id": task_id}]},
            codec=codec,
            scope=f"relations:{task_id}",
            cursor=cursor,
            limit=limit,
            newest_first=False,
        )

    async def blocked_by_any(self, task_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
        """One level of the blocks graph: the tasks that any of these block (answered from the
        `type_source_target` index alone)."""
        found = (
            await collection(TaskRelation)
            .find(
                {"type": RelationType.BLOCKS.value, "source_task_id": {"$in": task_ids}},
                {"target_task_id": 1, "_id": 0},
            )
            .to_list(None)
        )
        return {doc["target_task_id"] for doc in found}

    async def task_ends(self, task_ids: list[PydanticObjectId]) -> dict[PydanticObjectId, TaskEnd]:
        """The tasks at the other ends, deleted or not, in one query by `_id` alone (the caller
        checks deletion and access)."""
        if not task_ids:
            return {}
        found = await collection(Task).find({"_id": {"$in": task_ids}}, _SUMMARY).to_list(None)
        return {
            doc["_id"]: TaskEnd(
                id=doc["_id"],
                project_id=doc["project_id"],
                key=doc["key"],
                title=doc["title"],
                status=TaskStatus(doc["status"]),
                deleted=doc.get("deleted_at") is not None,
            )
            for doc in found
        }

    async def projects(self, project_ids: list[PydanticObjectId]) -> list[Project]:
        """The projects of those tasks, in one query, for the access policy to decide on each."""
        if not project_ids:
            return []
        found = await collection(Project).find({"_id": {"$in": project_ids}}).to_list(None)
        return [Project.model_validate(doc) for doc in found]
