"""Pages of documents in creation order, with opaque cursors: the one query shape of every
time-ordered list (sessions, comments, activity), for the repositories."""

from typing import Any, TypeVar

from beanie import Document

from backend.core.pagination import CursorCodec, after, read_time_position, time_position

DocumentT = TypeVar("DocumentT", bound=Document)


async def time_ordered_page(
    document: type[DocumentT],
    conditions: dict[str, Any],
    *,
    codec: CursorCodec,
    scope: str,
    cursor: str | None,
    limit: int,
    newest_first: bool,
) -> tuple[list[DocumentT], str | None]:
    """One page of documents in (created_at, _id) order, and the cursor of the next page (or None)."""
    query = conditions
    if cursor:
        created_at, last_id = read_time_position(codec, scope, cursor)
        query = {"$and": [conditions, after("created_at", created_at, last_id, descending=newest_first)]}
    direction = "-" if newest_first else "+"
    found = (
        await document.find(query)
        .sort(f"{direction}created_at", f"{direction}_id")
        .limit(limit + 1)
        .to_list()
    )
    items = found[:limit]
    if len(found) <= limit:
        return items, None
    last: Any = items[-1]
    return items, codec.encode(scope, time_position(last.created_at, last.id))
