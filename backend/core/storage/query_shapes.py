"""Index coverage: the shapes of the queries the services issue, and whether a declared index serves them.

On the real-server tier the test suite records every query through PyMongo command monitoring
(`TASKLANE_QUERY_SHAPES=file`); `tasklane indexes coverage file` then checks each shape: some index
must begin with equality fields of the query, followed at once by the sort (fields the query fixes
by equality may be skipped in the sort). The rest of the filter may be checked on the rows found.

A field matched with `$in` (`any_of`) may lead the index as an equality does: the server scans the
index once per value, each scan in the sort's order, and merges them ("explode for sort", up to 200
values); such a field is not skipped in the sort, as an equality is, and a list sorted by it is
served as any sorted list (the index gives its order). A list across the caller's
projects is so served by the (project_id, field, _id) indexes of a project's list.
"""

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import monitoring

from backend.core.storage.indexes import IndexSpec

_EQUALITY_OPERATORS = {"$eq", "$all"}
_ANY_OF = {"$in"}
_READS = {
    "find": ("filter", "sort"),
    "count": ("query", None),
    "findAndModify": ("query", "sort"),
    "distinct": ("query", None),
}


@dataclass(frozen=True, order=True)
class QueryShape:
    collection: str
    equality: tuple[str, ...]
    other: tuple[str, ...]
    sort: tuple[tuple[str, int], ...]
    any_of: tuple[str, ...] = ()  # fields matched with `$in` (also in `other`)

    def describe(self) -> str:
        sort = ", ".join(f"{k} {v}" for k, v in self.sort) or "-"
        any_of = f", any of {list(self.any_of)}" if self.any_of else ""
        fields = f"equality {list(self.equality)}, other {list(self.other)}{any_of}"
        return f"{self.collection}: {fields}, sort {sort}"


Branch = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _branches(filter_: dict[str, Any]) -> list[Branch]:
    """(equality fields, other fields, `$in` fields) for each way the filter can match: `$or`
    alternatives apart. A `$in` field is among the other fields too."""
    result: list[Branch] = [(frozenset(), frozenset(), frozenset())]

    def combine(options: list[Branch]) -> list[Branch]:
        return [(e1 | e2, o1 | o2, a1 | a2) for e1, o1, a1 in result for e2, o2, a2 in options]

    none: frozenset[str] = frozenset()

    for name, value in filter_.items():
        if name == "$and":
            for part in value:
                result = combine(_branches(part))
        elif name == "$or":
            result = combine([branch for alternative in value for branch in _branches(alternative)])
        elif name.startswith("$"):
            continue
        elif isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            field = frozenset({name})
            if set(value) <= _EQUALITY_OPERATORS:
                result = combine([(field, none, none)])
            else:
                result = combine([(none, field, field if set(value) <= _ANY_OF else none)])
        else:
            result = combine([(frozenset({name}), none, none)])
    return result


def shapes_of(command_name: str, command: dict[str, Any]) -> list[QueryShape]:
    collection = command.get(command_name)
    if not isinstance(collection, str):
        return []
    filters: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if command_name in _READS:
        filter_key, sort_key = _READS[command_name]
        filters.append((command.get(filter_key) or {}, (command.get(sort_key) or {}) if sort_key else {}))
    elif command_name == "aggregate":
        pipeline = command.get("pipeline") or []
        match: dict[str, Any] = next((s["$match"] for s in pipeline[:1] if "$match" in s), {})
        sort: dict[str, Any] = next((s["$sort"] for s in pipeline[1:2] if "$sort" in s), {})
        filters.append((match, sort))
    elif command_name == "update":
        filters += [(u.get("q") or {}, {}) for u in command.get("updates", [])]
    elif command_name == "delete":
        filters += [(d.get("q") or {}, {}) for d in command.get("deletes", [])]
    shapes = []
    for filter_, sort in filters:
        order = tuple((k, 1 if v > 0 else -1) for k, v in dict(sort).items())
        for equality, other, any_of in _branches(filter_):
            shapes.append(
                QueryShape(
                    collection,
                    tuple(sorted(equality)),
                    tuple(sorted(other - equality)),
                    order,
                    tuple(sorted(any_of - equality)),
                )
            )
    return shapes


class QueryShapeRecorder(monitoring.CommandListener):
    """A PyMongo command listener that keeps the distinct query shapes it sees."""

    def __init__(self) -> None:
        self.shapes: set[QueryShape] = set()
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        found = shapes_of(event.command_name, dict(event.command))
        with self._lock:
            self.shapes.update(found)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def save(self, path: Path) -> None:
        known = load_shapes(path) if path.exists() else set()
        rows = [shape.__dict__ for shape in sorted(known | self.shapes)]
        path.write_text(json.dumps(rows, indent=1), encoding="utf-8")


def load_shapes(path: Path) -> set[QueryShape]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {
        QueryShape(
            r["collection"],
            tuple(r["equality"]),
            tuple(r["other"]),
            tuple(tuple(s) for s in r["sort"]),
            tuple(r.get("any_of", ())),
        )
        for r in rows
    }


def covers(index: IndexSpec, shape: QueryShape) -> bool:
    keys = [name for name, _ in index.keys]
    directions = [direction for _, direction in index.keys]
    # A `$in` field may lead as an equality does unless the answer is sorted by it: then the index
    # must give its order, as the sort's part below.
    sorted_by = {name for name, _ in shape.sort}
    prefix = 0
    while prefix < len(keys) and (
        keys[prefix] in shape.equality or (keys[prefix] in shape.any_of and keys[prefix] not in sorted_by)
    ):
        prefix += 1
    if shape.equality and prefix == 0:
        return False  # the index cannot narrow by the fields the query fixes: a scan of it all
    needed = [(k, d) for k, d in shape.sort if k not in shape.equality]
    if not needed:
        return prefix > 0 or (bool(keys) and keys[0] in shape.other)
    if prefix == 0 and keys[0] not in shape.other and keys[0] != needed[0][0]:
        return False
    following = list(zip(keys[prefix:], directions[prefix:], strict=True))[: len(needed)]
    if [k for k, _ in following] != [k for k, _ in needed]:
        return False
    same = all(d == n for (_, d), (_, n) in zip(following, needed, strict=True))
    reversed_ = all(d == -n for (_, d), (_, n) in zip(following, needed, strict=True))
    return same or reversed_


ID_INDEX = IndexSpec("", "_id_", (("_id", 1),))


def uncovered(shapes: Iterable[QueryShape], declared: dict[str, dict[str, IndexSpec]]) -> list[QueryShape]:
    """The shapes of known collections that no declared index (nor `_id_`) serves."""
    missing = []
    for shape in sorted(shapes):
        if shape.collection not in declared or not (shape.equality or shape.other or shape.sort):
            continue
        indexes = [ID_INDEX, *declared[shape.collection].values()]
        if not any(covers(index, shape) for index in indexes):
            missing.append(shape)
    return missing
