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
        description="`degraded`: Redis is down; the API answers from MongoDB without cache or shared limits."
    )
    checks: dict[str, DependencyCheck] = Field(description="One entry per dependency: `mongodb`, `redis`.")
