from typing import Literal

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyCheck(BaseModel):
    status: Literal["ok", "unavailable"]
    latency_ms: float = Field(description="How long the ping took, or the timeout when it failed.")
    error: str | None = Field(None, description="Why the dependency is unavailable (no credentials shown).")


class Readiness(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="`degraded`: Redis is down (answers come from MongoDB, without cache or shared limits), "
        "or declared indexes are missing (run `tasklane indexes apply`)."
    )
    missing_indexes: list[str] = Field(
        default_factory=list, description="Declared indexes not on the server, as `collection.index`."
    )
    checks: dict[str, DependencyCheck] = Field(description="One entry per dependency: `mongodb`, `redis`.")
