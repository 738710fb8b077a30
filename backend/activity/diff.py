"""The `changes` of an activity record: only the fields that changed, as JSON-ready [old, new]."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from bson import ObjectId

from backend.core.time import as_utc

MAX_TEXT = 200


def plain(value: Any) -> Any:
    """A JSON-ready copy: ids as strings, times as RFC 3339, enums as values, long texts shortened."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[: MAX_TEXT - 1] + "\u2026"
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any], fields: Iterable[str]) -> dict[str, list[Any]]:
    changed: dict[str, list[Any]] = {}
    for name in fields:
        old, new = before.get(name), after.get(name)
        if old != new:
            changed[name] = [plain(old), plain(new)]
    return changed
