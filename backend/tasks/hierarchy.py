"""Subtasks: a parent is a live task of the same project, never the task itself or one of its
descendants, and no chain is deeper than five levels. Each check is a few indexed reads."""

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
