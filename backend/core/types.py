"""Field types for request models whose JSON Schema states what the server accepts, so the contract
(and clients and fuzzers generated from it) never promise a value the server refuses."""

import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Self

import email_validator
from beanie import PydanticObjectId
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from backend.core.time import in_utc_range

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")


def _object_id_string(value: object) -> object:
    # bson's ObjectId(None) makes a new id: a null must be refused before it gets there.
    if not isinstance(value, str) or not OBJECT_ID.match(value):
        raise ValueError("must be a 24-hex id")
    return value


# A 24-hex id sent in a body (responses keep PydanticObjectId's own schema).
ObjectIdIn = Annotated[
    PydanticObjectId,
    BeforeValidator(_object_id_string),
    WithJsonSchema({"type": "string", "pattern": OBJECT_ID.pattern, "example": "6b0201e8c0ffee0000000001"}),
]

# Not blank: at least one character that is neither whitespace to Python (`str.strip`, `\s`) nor to
# JSON Schema's ECMA-262 `\s` (which adds U+FEFF and lacks U+001C-U+001F and U+0085). Spelled out,
# as `\S` means different things to the contract's validators and to the server (JSON Schema
# patterns are unanchored searches).
VISIBLE = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"


def _valid_email(value: str) -> str:
    """Any deliverable-looking address (syntax only: no DNS), as the contract's `format: email` says;
    reserved test domains pass, so that test environments can register."""
    try:
        return email_validator.validate_email(
            value, check_deliverability=False, globally_deliverable=False, test_environment=True
        ).normalized
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_valid_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]


def _hide_null(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """In the contract, only CLEARABLE fields admit null; the others are optional, never null."""
    clearable: frozenset[str] = getattr(model, "CLEARABLE", frozenset())
    for name, prop in schema.get("properties", {}).items():
        options = [o for o in prop.get("anyOf", []) if o != {"type": "null"}]
        if name not in clearable and len(options) == 1 and len(prop["anyOf"]) == 2:
            del prop["anyOf"]
            prop.update(options[0])
            if prop.get("default", 0) is None:
                del prop["default"]
    extra = getattr(model, "SCHEMA_EXTRA", {})
    if callable(extra):
        extra(schema)
    else:
        schema.update(extra)


class Schema(BaseModel):
    """Base of every model the API reads or answers. In an answer a field with a default is still
    always sent, so the contract (serialization-mode schema) marks it required; fields sent only
    sometimes say so with `exclude_if` and stay optional."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class RequestBody(Schema):
    """A JSON request body: unknown fields are refused. Fields where Pydantic would coerce across
    JSON types (a string for a number, true for 1) use the strict types below."""

    model_config = ConfigDict(extra="forbid")


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _rfc3339(value: object) -> object:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, like 2026-12-01T09:30:00Z")
    return value


# An RFC 3339 time with an offset, in a body or a query (never a bare number of seconds). One whose
# UTC instant falls outside years 1-9999 (9999-12-31T23:59:59-01:00) is refused here: stored or
# compared it would be converted to UTC, overflow, and answer 500.
Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(in_utc_range)]


def json_number(value: object) -> object:
    """A JSON number only: not a numeric string, and not true/false (a Python bool is an int)."""
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


class PartialUpdate(RequestBody):
    """A body whose fields may be left out (`field: T | None = None`): left out, they stay as they
    are or take their default; `null` is refused except for the fields CLEARABLE names (their
    schema admits null, which clears them). SCHEMA_EXTRA adds keywords to the model's schema."""

    model_config = ConfigDict(json_schema_extra=_hide_null)
    CLEARABLE: ClassVar[frozenset[str]] = frozenset()
    SCHEMA_EXTRA: ClassVar[dict[str, Any] | Callable[[dict[str, Any]], None]] = {}

    @model_validator(mode="after")
    def _refuse_null_except_clearable(self) -> Self:
        nulled = sorted(
            f for f in self.model_fields_set if getattr(self, f) is None and f not in self.CLEARABLE
        )
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null; leave a field out to keep it")
        return self
