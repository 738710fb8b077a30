from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class GlobalRole(StrEnum):
    ADMIN = "admin"
    USER = "user"


class User(Document):
    email: str
    # Lower-cased and trimmed: uniqueness is case-insensitive without collation (the mock has none).
    email_normalized: str
    display_name: str
    # Lower-cased, unique (users/handles.py); None only on an account stored before migration 0005.
    handle: str | None = None
    password_hash: str
    role: GlobalRole = GlobalRole.USER
    disabled: bool = False
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email_normalized", ASCENDING)], name="email_normalized_unique", unique=True),
            IndexModel([("role", ASCENDING), ("disabled", ASCENDING)], name="role_disabled"),
            # Sparse: accounts stored before migration 0005 gave each one have no handle field, and do
            # not collide as nulls (sparse, not partial: the in-memory MongoDB drops partial filters).
            IndexModel([("handle", ASCENDING)], name="handle_unique", unique=True, sparse=True),
        ]
