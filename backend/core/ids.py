"""Ids in paths: 24-hex strings. A malformed id names nothing, so it answers like an unknown one (404)."""

from beanie import PydanticObjectId

from backend.core.http.errors import ProblemError


def parse_id(value: str, not_found: type[ProblemError]) -> PydanticObjectId:
    if not PydanticObjectId.is_valid(value) or len(value) != 24:
        raise not_found()
    return PydanticObjectId(value)
