"""Cursor pagination: keyset conditions on (sort key, _id), opaque signed cursors, one page model.

A cursor holds the sort key and id of the last item returned and is signed, so a tampered or foreign
cursor is refused (422) instead of producing a wrong page; it stays valid while items are inserted.
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, Generic, TypeVar

from bson import ObjectId
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from backend.core.http.errors import ValidationFailed
from backend.core.time import as_utc
from backend.core.types import Schema

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    # Left out of the answer unless counted: a field rule, not a serializer, so that the contract keeps
    # the page's schema (a `model_serializer` published it as an untyped object).
    total: int | SkipJsonSchema[None] = Field(
        None,
        description="Only with `include_total=true`: items matching the filters.",
        exclude_if=lambda total: total is None,
    )


class InvalidCursor(ValidationFailed):
    def __init__(self) -> None:
        super().__init__(
            "The cursor is not one this API issued for this list.",
            field_errors={"query.cursor": ["Invalid or tampered cursor; start again without one."]},
        )


class CursorCodec:
    """Encodes the position after an item as a signed, URL-safe string bound to one list's scope."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, scope: str, position: dict[str, Any]) -> str:
        payload = json.dumps({"s": scope, "p": position}, separators=(",", ":"), default=str).encode()
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, scope: str, cursor: str) -> dict[str, Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            mac, payload = raw[:16], raw[16:]
            expected = hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]
            if not hmac.compare_digest(mac, expected):
                raise ValueError("bad signature")
            data = json.loads(payload)
        except (ValueError, TypeError) as exc:
            raise InvalidCursor() from exc
        if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("p"), dict):
            raise InvalidCursor()
        position: dict[str, Any] = data["p"]
        return position


def time_position(created_at: datetime, item_id: ObjectId | None) -> dict[str, str]:
    """The cursor position of an item in a (created_at, _id) order."""
    return {"t": as_utc(created_at).isoformat(), "i": str(item_id)}


def read_time_position(codec: CursorCodec, scope: str, cursor: str) -> tuple[datetime, ObjectId]:
    position = codec.decode(scope, cursor)
    item_id = str(position.get("i"))
    if not ObjectId.is_valid(item_id):
        raise InvalidCursor()
    try:
        return as_utc(datetime.fromisoformat(str(position.get("t")))), ObjectId(item_id)
    except ValueError as exc:
        raise InvalidCursor() from exc


def after(field: str, value: Any, last_id: ObjectId, *, descending: bool = False) -> dict[str, Any]:
    """The keyset condition for items after (value, last_id) in (field, _id) order."""
    op = "$lt" if descending else "$gt"
    return {"$or": [{field: {op: value}}, {field: value, "_id": {op: last_id}}]}
