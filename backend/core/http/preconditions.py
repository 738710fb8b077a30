"""Conditional requests (RFC 9110): strong ETags, If-Match on writes, If-None-Match on reads."""

from typing import Annotated

from fastapi import Header

from backend.core.http.errors import ProblemError


class PreconditionFailed(ProblemError):
    status = 412
    error_code = "PRECONDITION_FAILED"
    title = "Precondition failed"
    default_detail = "The resource changed since you read it (If-Match does not match its ETag)."
    members = ("current_etag",)
    sends_headers = ("ETag",)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1024,
        description="Apply only if the resource's current ETag is one of these (or `*`); else 412.",
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(alias="If-None-Match", max_length=1024, description="304 without a body when the ETag matches."),
]


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def check_if_match(header: str | None, current_etag: str) -> None:
    """Strong comparison: a weak tag (W/...) never matches."""
    if header is None:
        return
    tags = _tags(header)
    if "*" in tags or current_etag in tags:
        return
    raise PreconditionFailed(headers={"ETag": current_etag}, current_etag=current_etag)


def none_match(header: str | None, current_etag: str) -> bool:
    """True when If-None-Match names the current representation (weak comparison, per RFC 9110)."""
    if header is None:
        return False
    tags = [t.removeprefix("W/") for t in _tags(header)]
    return "*" in tags or current_etag in tags
