"""The task list: filters, sort orders and keyset cursors turned into one query."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from beanie.odm.enums import SortDirection

from backend.core.http.errors import ValidationFailed
from backend.core.pagination import CursorCodec, InvalidCursor
from backend.core.time import as_utc
from backend.tasks.documents import SORT_FIELDS, Priority, TaskStatus
from backend.tasks.keys import keys_in, without_keys
from backend.tasks.search import query_terms


# An enumeration rather than a pattern: generated clients get the values as a type.
class TaskSort(StrEnum):
    """A sort order of a task list: a field, `-` first for descending; ties by id."""

    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    UPDATED_AT = "updated_at"
    UPDATED_AT_DESC = "-updated_at"
    DUE_AT = "due_at"
    DUE_AT_DESC = "-due_at"
    PRIORITY = "priority"
    PRIORITY_DESC = "-priority"
    POSITION = "position"
    POSITION_DESC = "-position"
    NUMBER = "number"
    NUMBER_DESC = "-number"
    RANK = "rank"
    RANK_DESC = "-rank"


# Every field with a sort index has its two orders, and no other: checked where both are defined.
assert {order.value.removeprefix("-") for order in TaskSort} == set(SORT_FIELDS)
assert len(TaskSort) == 2 * len(SORT_FIELDS)


@dataclass(frozen=True)
class TaskFilters:
    status: list[TaskStatus] = field(default_factory=list)
    priority: list[Priority] = field(default_factory=list)
    assignee: str | None = None  # a user id, "me" or "none"
    label: list[str] = field(default_factory=list)
    parent: str | None = None  # a task id or "none"
    due_before: datetime | None = None
    due_after: datetime | None = None
    updated_after: datetime | None = None
    include_deleted: bool = False
    q: str | None = None


@dataclass(frozen=True)
class SortOrder:
    field: str
    descending: bool

    @classmethod
    def parse(cls, value: str) -> "SortOrder":
        return cls(value.removeprefix("-"), value.startswith("-"))

    @property
    def direction(self) -> SortDirection:
        return SortDirection.DESCENDING if self.descending else SortDirection.ASCENDING


def _bad(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid {name}: {message}", field_errors={f"query.{name}": [message]})


def _object_id(name: str, value: str) -> PydanticObjectId:
    if not PydanticObjectId.is_valid(value) or len(value) != 24:
        raise _bad(name, "must be a 24-hex id, or `me`/`none` where allowed")
    return PydanticObjectId(value)


def filter_query(
    project_id: PydanticObjectId | list[PydanticObjectId],
    filters: TaskFilters,
    caller: PydanticObjectId,
    *,
    project_keys: Mapping[str, PydanticObjectId | None] | None = None,
) -> dict[str, Any]:
    """The conditions of a list of one project's tasks, or of several projects' (a list of ids).
    `project_keys` says which task keys in `filters.q` name tasks: a project's key, and the project's
    id (None for the one project of a single project's list)."""
    query: dict[str, Any] = {
        "project_id": project_id if isinstance(project_id, PydanticObjectId) else {"$in": project_id}
    }
    if not filters.include_deleted:
        query["deleted_at"] = None
    if filters.status:
        query["status"] = {"$in": [s.value for s in filters.status]}
    if filters.priority:
        query["priority"] = {"$in": [int(p) for p in filters.priority]}
    if filters.assignee == "none":
        query["assignee_ids"] = {"$size": 0}
    elif filters.assignee is not None:
        query["assignee_ids"] = (
            caller if filters.assignee == "me" else _object_id("assignee", filters.assignee)
        )
    if filters.label:
        query["labels"] = {"$all": sorted(set(filters.label))}
    if filters.parent == "none":
        query["parent_id"] = None
    elif filters.parent is not None:
        query["parent_id"] = _object_id("parent", filters.parent)
    due: dict[str, Any] = {}
    if filters.due_before is not None:
        due["$lt"] = as_utc(filters.due_before)
    if filters.due_after is not None:
        due["$gt"] = as_utc(filters.due_after)
    if due:
        query["due_at"] = due
    if filters.updated_after is not None:
        query["updated_at"] = {"$gt": as_utc(filters.updated_after)}
    if filters.q:
        query.update(search_condition(filters.q, project_keys or {}))
    return query


def search_condition(q: str, project_keys: Mapping[str, PydanticObjectId | None]) -> dict[str, Any]:
    """What a search asks of the listed projects' tasks: the tasks its keys of these projects name
    (`WEB-42`, any case), or the tasks whose text has all its other words; `WEB-42` alone is that
    task only.

    A key of a prefix that is no listed project's key stays words (`utf-8` is no key in project WEB):
    keys are per project, so it names nothing here, and the list is of these projects' tasks whatever
    `q` says. Each way is index-served: the number by (project_id, number), the words by (project_id,
    search_terms), and either within a project by the sort's (project_id, field, _id).
    """
    named = {key for key in keys_in(q) if key.project_key in project_keys}
    terms = query_terms(without_keys(q, named) if named else q)
    by_text: dict[str, Any] | None = {"search_terms": {"$all": terms}} if terms else None
    if not named:
        # Without a searchable word nothing can match (an empty `$all` is not portable).
        return by_text or {"search_terms": {"$in": []}}
    numbers: dict[str, list[int]] = {}
    for key in sorted(named, key=lambda k: (k.project_key, k.number)):
        numbers.setdefault(key.project_key, []).append(key.number)
    by_key: list[dict[str, Any]] = []
    for project_key, wanted in numbers.items():
        condition: dict[str, Any] = {"number": wanted[0] if len(wanted) == 1 else {"$in": wanted}}
        project_id = project_keys[project_key]
        by_key.append(condition if project_id is None else {"project_id": project_id, **condition})
    alternatives = by_key if by_text is None else [*by_key, by_text]
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def cursor_scope_across(
    user_id: PydanticObjectId, order: SortOrder, filters: TaskFilters, project_ids: list[PydanticObjectId]
) -> str:
    """A cursor of a list across projects is valid for the same caller, filters, chosen projects and
    order; not bound to the caller's memberships, so that joining a project keeps it valid."""
    chosen = sorted(str(p) for p in project_ids)
    fingerprint = hashlib.sha256(
        json.dumps([asdict(filters), chosen], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return f"tasks:across:{user_id}:{order.field}:{int(order.descending)}:{fingerprint}"


def cursor_scope(project_id: PydanticObjectId, order: SortOrder, query: dict[str, Any]) -> str:
    """A cursor is valid only for the list it came from: the same project, filters and order."""
    fingerprint = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"tasks:{project_id}:{order.field}:{int(order.descending)}:{fingerprint}"


def encode_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"t": "null"}
    if isinstance(value, datetime):
        return {"t": "dt", "v": as_utc(value).isoformat()}
    if isinstance(value, str):  # a rank
        return {"t": "str", "v": value}
    return {"t": "num", "v": value}


def decode_value(encoded: Any) -> Any:
    if not isinstance(encoded, dict):
        raise ValueError("bad cursor value")
    kind = encoded.get("t")
    if kind == "null":
        return None
    if kind == "dt":
        return as_utc(datetime.fromisoformat(str(encoded["v"])))
    if kind == "num" and isinstance(encoded.get("v"), int | float):
        return encoded["v"]
    if kind == "str" and isinstance(encoded.get("v"), str):
        return encoded["v"]
    raise ValueError("bad cursor value")


def after_position(order: SortOrder, value: Any, last_id: PydanticObjectId) -> dict[str, Any]:
    """Everything after (value, last_id) in (field, _id) order, with nulls first when ascending,
    last when descending (MongoDB's order)."""
    op = "$lt" if order.descending else "$gt"
    same_value_later = {order.field: value, "_id": {op: last_id}}
    if value is None:
        if order.descending:
            return same_value_later
        return {"$or": [same_value_later, {order.field: {"$ne": None}}]}
    later = [{order.field: {op: value}}, same_value_later]
    if order.descending:
        later.append({order.field: None})
    return {"$or": later}


def read_cursor(codec: CursorCodec, scope: str, cursor: str, order: SortOrder) -> dict[str, Any]:
    position = codec.decode(scope, cursor)
    last_id = str(position.get("i"))
    try:
        value = decode_value(position.get("v"))
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCursor() from exc
    if not PydanticObjectId.is_valid(last_id):
        raise InvalidCursor()
    return after_position(order, value, PydanticObjectId(last_id))
