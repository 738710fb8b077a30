from typing import Literal

from pydantic import Field

from backend.core.types import Schema


class Liveness(Schema):
    status: Literal["ok"] = "ok"


class DependencyCheck(Schema):
    status: Literal["ok", "unavailable"]
    latency_ms: float = Field(description="How long the ping took, or the timeout when it failed.")
    error: str | None = Field(None, description="Why the dependency is unavailable (no credentials shown).")


class Readiness(Schema):
    status: Literal["ok", "degraded"] = Field(
        description="`degraded`: Redis is down (answers come from MongoDB, without cache or shared limits), "
        "declared indexes are missing (run `tasklane indexes apply`), or a store is in memory "
        "(never `ok` then)."
    )
    in_memory: list[Literal["mongodb", "redis"]] = Field(
        default_factory=list,
        description="Stores running in memory in this process (MONGODB_URL or REDIS_URL unset): data is "
        "lost on exit and not shared with other processes.",
    )
    missing_indexes: list[str] = Field(
        default_factory=list, description="Declared indexes not on the server, as `collection.index`."
    )
    checks: dict[str, DependencyCheck] = Field(description="One entry per dependency: `mongodb`, `redis`.")
