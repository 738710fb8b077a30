from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow

PAT_PREFIX = "tlp_"  # personal access tokens start with this; access tokens are JWTs


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


class Session(Document):
    """One sign-in: the refresh-token family and every access token issued in it name this id.

    Ending it (logout, a reused refresh token, a revoke, a password change, a disabled account) ends
    all of them at once: authentication checks the session on every request (backend/access/).
    """

    user_id: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)
    last_used_at: UtcDatetime = Field(default_factory=utcnow)
    # The session is over when its last refresh token expires: MongoDB then deletes it.
    expires_at: UtcDatetime
    user_agent: str = ""
    ended_at: UtcDatetime | None = None
    end_reason: str | None = None

    class Settings:
        name = "sessions"
        indexes = [
            IndexModel(
                [
                    ("user_id", ASCENDING),
                    ("ended_at", ASCENDING),
                    ("created_at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name="user_active_newest",
            ),
            IndexModel([("expires_at", ASCENDING)], name="expires_ttl", expireAfterSeconds=0),
            # Sessions made by migration 0002 from older refresh-token families (its `down` finds them).
            IndexModel([("migrated_from_family", ASCENDING)], name="migrated_from_family", sparse=True),
        ]
