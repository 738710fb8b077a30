"""The MongoDB an ops command works on: MONGODB_URL or `--url`, with only the MongoDB settings read
(an API secret that is not there yet must not stop an index check or a migration)."""

from pydantic import ValidationError

from backend.core.config import MongoSettings, describe_invalid


class NoTarget(Exception):
    """Why there is no MongoDB to work on, in one line for the operator."""


def mongo_target(url: str | None) -> MongoSettings:
    try:
        settings = MongoSettings()
    except ValidationError as exc:
        raise NoTarget("; ".join(describe_invalid(exc))) from None
    target = url or settings.mongodb_url
    if target is None:
        raise NoTarget("MONGODB_URL is not set, nor --url given (an in-memory database needs no ops)")
    return settings.model_copy(update={"mongodb_url": target})
