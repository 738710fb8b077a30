from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class RefreshToken(Document):
    """One issued refresh token; rotation spends it and issues the next in the same family."""

    token_hash: str
    family_id: str
    user_id: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)
    expires_at: UtcDatetime
    used_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], name="token_hash_unique", unique=True),
            IndexModel([("family_id", ASCENDING)], name="family"),
            IndexModel([("user_id", ASCENDING), ("revoked_at", ASCENDING)], name="user_revoked"),
            # Expired tokens are useless: MongoDB deletes them.
            IndexModel([("expires_at", ASCENDING)], name="expires_ttl", expireAfterSeconds=0),
        ]


class PersonalAccessToken(Document):
    """A long-lived token for scripts; only its hash is stored, the secret is shown once."""

    user_id: PydanticObjectId
    name: str
    token_hash: str
    token_prefix: str
    created_at: UtcDatetime = Field(default_factory=utcnow)
    expires_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None

    class Settings:
        name = "personal_access_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], name="token_hash_unique", unique=True),
            IndexModel(
                [
                    ("user_id", ASCENDING),
                    ("revoked_at", ASCENDING),
                    ("created_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="user_active_created",
            ),
        ]
