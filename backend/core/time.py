"""Time is UTC and timezone-aware at the API boundary; naive values read back (the mock) are UTC."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    # MongoDB stores milliseconds; truncating here keeps what we return equal to what we read back.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_utc_range(value: datetime) -> datetime:
    """The value, if its UTC instant is a datetime too (years 1-9999): an input validator, so that a
    time near the ends (0001-01-01T00:00:00+01:00) is refused as invalid rather than overflowing
    (a 500) where it is converted to UTC."""
    if value.tzinfo is None:
        return value  # read back naive: UTC already
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall within years 1 to 9999 in UTC") from None
    return value


def _as_utc_input(value: datetime) -> datetime:
    return as_utc(in_utc_range(value))


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc_input)]
