"""Subtasks: a parent is a live task of the same project, never the task itself or one of its
descendants, and no chain is deeper than five levels. Each check is a few indexed reads."""

from typing import Any

from beanie import PydanticObjectId

from backend.tasks.errors import InvalidParent
from backend.tasks.repository import TaskRepository

MAX_DEPTH = 5


def _invalid(reason: str) -> InvalidParent:
    return InvalidParent(reason, field_errors={"parent_id": [reason]})


async def check_parent(
    project_id: PydanticObjectId, task_id: PydanticObjectId | None, parent_id: PydanticObjectId
) -> None:
    tasks = TaskRepository()
    parent = await tasks.chain_link(parent_id)  # the project and deletion checked here
    if parent is None or parent["project_id"] != project_id or parent.get("deleted_at") is not None:
        raise _invalid("The parent is not a task of this project.")
    levels_above = 1  # the parent itself
    current = parent.get("parent_id")
    if parent_id == task_id:
        raise _invalid("A task cannot be its own parent.")
    while current is not None:
        if current == task_id:
            raise _invalid("The parent is a subtask of this task; that would make a cycle.")
        levels_above += 1
        if levels_above >= MAX_DEPTH:
            raise _invalid(f"Subtasks nest at most {MAX_DEPTH} levels deep.")
        ancestor = await tasks.chain_link(current)
        current = ancestor.get("parent_id") if ancestor else None
    height = await _subtree_height(project_id, task_id) if task_id else 1
    if levels_above + height > MAX_DEPTH:
        raise _invalid(f"Subtasks nest at most {MAX_DEPTH} levels deep.")


async def _subtree_height(project_id: PydanticObjectId, task_id: PydanticObjectId) -> int:
    """Levels from this task down to its deepest subtask (1 for a task without subtasks)."""
    level = [task_id]
    height = 1
    while height <= MAX_DEPTH:
        level = await TaskRepository().children_ids(project_id, level)
        if not level:
            break
        height += 1
    return height


async def refused_parents(
    project_id: PydanticObjectId, parent_ids: set[PydanticObjectId]
) -> dict[PydanticObjectId, InvalidParent]:
    """`check_parent` for new tasks under these parents, all at once: the parents that would be
    refused, each with why. The chains are walked a level at a time for all of them, so the queries
    are at most MAX_DEPTH - 1 however many tasks and parents there are."""
    tasks = TaskRepository()
    links: dict[PydanticObjectId, dict[str, Any]] = {}
    refused: dict[PydanticObjectId, InvalidParent] = {}
    # parent -> (levels from the parent up to the current link, the current link's id)
    walking: dict[PydanticObjectId, tuple[int, PydanticObjectId]] = {p: (1, p) for p in parent_ids}
    while walking:
        unknown = sorted({link for _, link in walking.values()} - links.keys())
        if unknown:
            links.update((doc["_id"], doc) for doc in await tasks.chain_links(unknown))
        still: dict[PydanticObjectId, tuple[int, PydanticObjectId]] = {}
        for parent_id, (levels, link_id) in walking.items():
            link = links.get(link_id)
            if levels == 1 and (
                link is None or link["project_id"] != project_id or link.get("deleted_at") is not None
            ):
                refused[parent_id] = _invalid("The parent is not a task of this project.")
                continue
            above = link.get("parent_id") if link else None
            if above is None:
                continue  # the top of the chain: the parent is `levels` deep, and so allowed
            if levels + 1 >= MAX_DEPTH:  # a new task (one level) under it would be too deep
                refused[parent_id] = _invalid(f"Subtasks nest at most {MAX_DEPTH} levels deep.")
                continue
            still[parent_id] = (levels + 1, above)
        walking = still
    return refused
