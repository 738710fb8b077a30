"""Settings, read once from the environment (and `.env`), validated at startup."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JWT_SECRET = "change-me-in-production-not-a-secret"  # noqa: S105 - a placeholder that production refuses
MIN_PRODUCTION_SECRET_LENGTH = 32
MIN_METRICS_TOKEN_LENGTH = 32


DEFAULT_ATTACHMENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "text/plain",
    "text/csv",
    "text/markdown",
    "application/json",
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


# Settings that may hold a password and can be read from a file instead (`<NAME>_FILE`, as Docker
# and compose secrets provide them), so that no secret needs to sit in the environment.
SECRET_FILE_SETTINGS = ("jwt_secret", "mongodb_url", "redis_url", "metrics_token")


class MongoSettings(BaseSettings):
    """What a MongoDB-only command (indexes, migrations) needs: nothing else is read or validated,
    so a missing secret of the API does not stop ops from checking indexes."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="development, test or production; production refuses weak secrets and in-memory storage.",
    )
    mongodb_url: str | None = Field(
        None, description="MongoDB connection string; unset means an in-memory MongoDB (data lost on exit)."
    )
    mongodb_url_file: Path | None = Field(
        None, description="A file holding MONGODB_URL (a compose or Docker secret), read at startup."
    )
    mongodb_db: str = Field("tasklane", description="Database name.")
    mongodb_server_selection_timeout_ms: int = Field(
        5000, ge=100, description="How long the driver waits to find a server before failing a request."
    )
    mongodb_socket_timeout_ms: int = Field(10000, ge=100, description="Socket timeout for one operation.")
    mongodb_max_pool_size: int = Field(100, ge=1, description="Connections per API process.")
    mongodb_build_indexes: bool = Field(
        True,
        description="Create declared indexes at startup; production runs `tasklane indexes apply` instead.",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: object) -> object:
        """`<NAME>_FILE` gives a setting's value from a file (its content, trailing newline dropped)."""
        if not isinstance(data, dict):
            return data
        values = dict(data)
        for name in SECRET_FILE_SETTINGS:
            path = values.get(f"{name}_file")
            if path and name in cls.model_fields:
                try:
                    values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
                except OSError as exc:
                    raise ValueError(f"{name.upper()}_FILE: cannot read {path} ({exc.strerror})") from exc
        return values


class Settings(MongoSettings):
    """Every setting is an environment variable of the same name in upper case."""

    redis_url: str | None = Field(
        None, description="Redis URL; unset means an in-process cache and limiter (one process only)."
    )
    redis_url_file: Path | None = Field(None, description="A file holding REDIS_URL, read at startup.")
    redis_max_connections: int = Field(
        50,
        ge=1,
        description="Bounded Redis pool per process; past it a command waits up to `REDIS_TIMEOUT_SECONDS` "
        "for a free connection, then is answered as if Redis were down.",
    )
    redis_timeout_seconds: float = Field(1.0, gt=0, description="Redis connect and command timeout.")
    drain_timeout_seconds: int = Field(
        30,
        ge=1,
        description="On SIGTERM, how long in-flight requests may take to finish before the process exits.",
    )
    health_timeout_seconds: float = Field(
        1.0, gt=0, description="Timeout for each dependency ping in `/health/ready`."
    )
    metrics_token: SecretStr | None = Field(
        None, description="When set, `GET /metrics` needs `Authorization: Bearer <this>` (32+ characters)."
    )
    metrics_token_file: Path | None = Field(
        None, description="A file holding METRICS_TOKEN, read at startup."
    )
    jwt_secret: SecretStr = Field(
        SecretStr(DEFAULT_JWT_SECRET),
        description="HMAC secret for access tokens; production needs 32+ characters.",
    )
    jwt_secret_file: Path | None = Field(
        None, description="A file holding JWT_SECRET (a compose or Docker secret), read at startup."
    )
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = Field(
        "HS256", description="JWT signing algorithm (HMAC)."
    )
    access_token_ttl_seconds: int = Field(900, ge=60, description="Access token lifetime.")
    stream_ticket_ttl_seconds: int = Field(
        60, ge=10, le=3600, description="How long a stream ticket opens (and reopens) its stream."
    )
    refresh_token_ttl_seconds: int = Field(1_209_600, ge=300, description="Refresh token lifetime.")
    password_hash_time_cost: int = Field(3, ge=1, description="argon2id passes per password hash.")
    password_hash_memory_kib: int = Field(
        65536, ge=8, description="argon2id memory per password hash, in KiB."
    )
    login_rate_limit_per_ip: str = Field(
        "20/minute", description="Login attempts per client IP (`limits` notation: `N/second|minute|hour`)."
    )
    login_rate_limit_per_email: str = Field("5/minute", description="Login attempts per email address.")
    cache_ttl_seconds: int = Field(
        60, ge=1, description="How long a cached response lives (writes end it sooner)."
    )
    response_cache_enabled: bool = Field(True, description="Cache GET responses (false: always compute).")
    rate_limit_authenticated: str = Field(
        "1200/minute", description="Requests per user or token on every route but health, metrics and docs."
    )
    rate_limit_anonymous: str = Field(
        "120/minute", description="Requests per client IP without a valid token."
    )
    demo_data: bool = Field(
        False, description="Fill an empty database with demo users, projects and tasks at startup."
    )
    forwarded_allow_ips: str = Field(
        "",
        description=(
            "Proxies trusted to set X-Forwarded-For/-Proto (comma-separated IPs or CIDRs, `*` for any): "
            "client addresses (rate limits, logs) come from them. Empty: trust none."
        ),
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS; empty allows none."
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body accepted (413 above); attachment uploads have their own limits.",
    )
    attachment_max_bytes: int = Field(
        26_214_400, ge=1, description="Largest attachment file (413 ATTACHMENT_TOO_LARGE above)."
    )
    attachment_project_quota_bytes: int = Field(
        1_073_741_824,
        ge=1,
        description="Bytes of attachments a project may hold (413 QUOTA_EXCEEDED above); an upload under "
        "way holds its announced body length until it ends.",
    )
    attachment_chunk_bytes: int = Field(
        261_120,
        ge=1024,
        le=16_000_000,
        description="GridFS chunk size: each upload or download holds about one chunk in memory.",
    )
    attachment_content_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ATTACHMENT_TYPES),
        description="Comma-separated content types that may be attached (checked against the bytes).",
    )
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_json: bool = Field(True, description="JSON log lines (true) or human-readable console lines (false).")
    openapi_spec_path: Path = Field(
        REPO_ROOT / "api-specification.yaml",
        description="The committed contract served at `/openapi.json`.",
    )

    worker_in_process: bool | None = Field(
        None,
        description=(
            "Run the background worker (webhook relay and delivery, scheduled jobs) inside the API "
            "process. Unset: only when REDIS_URL is unset (outside tests), so that one command runs "
            "everything; with Redis, run `tasklane worker` processes instead."
        ),
    )
    worker_concurrency: int = Field(20, ge=1, description="Jobs one worker process runs at once.")
    webhook_allow_private_targets: bool = Field(
        False,
        description="Let webhooks target loopback, private, link-local and metadata addresses "
        "(tests, local development).",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="Connect-to-last-byte limit of one delivery attempt."
    )
    webhook_response_max_bytes: int = Field(
        4096, ge=0, le=65536, description="How much of a receiver's answer is read and kept per attempt."
    )
    webhook_retry_base_seconds: float = Field(
        5.0, gt=0, description="First retry delay; each later one doubles (full jitter), up to the maximum."
    )
    webhook_retry_max_seconds: float = Field(3600.0, gt=0, description="Longest delay between two attempts.")
    webhook_retry_horizon_seconds: float = Field(
        86400.0, gt=0, description="No attempt starts later than this after the delivery was created."
    )
    webhook_failures_to_disable: int = Field(
        50, ge=1, description="Failed attempts in a row after which a webhook is disabled (admins are told)."
    )
    webhook_relay_interval_seconds: float = Field(
        0.25, gt=0, description="How often each worker reads new activity into the outbox."
    )
    webhook_sweep_interval_seconds: float = Field(
        5.0,
        gt=0,
        description="How often each worker re-queues attempts the queue lost (Redis down, a worker killed).",
    )
    webhook_delivery_retention_days: int = Field(
        30, ge=1, description="Deliveries older than this are purged (a scheduled job)."
    )
    reminder_lead_minutes: int = Field(
        24 * 60,
        ge=1,
        description="Assignees are reminded (`due_soon`) of a task due within this many minutes.",
    )
    deleted_task_retention_days: int = Field(
        30, ge=1, description="Deleted tasks are restorable this long, then purged (a scheduled job)."
    )

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, data: object) -> object:
        for name in ("cors_origins", "attachment_content_types"):
            if isinstance(data, dict) and isinstance(data.get(name), str):
                raw = data[name]
                data = {**data, name: [o.strip() for o in raw.split(",") if o.strip()]}
        return data

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(f"METRICS_TOKEN needs at least {MIN_METRICS_TOKEN_LENGTH} characters")
        return token

    @model_validator(mode="after")
    def _refuse_to_pretend_in_production(self) -> Self:
        if self.environment is not Environment.PRODUCTION:
            return self
        secret = self.jwt_secret.get_secret_value()
        if secret == DEFAULT_JWT_SECRET or len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
            minimum = MIN_PRODUCTION_SECRET_LENGTH
            raise ValueError(f"JWT_SECRET must be set to at least {minimum} characters in production")
        if self.mongodb_url is None:
            raise ValueError("MONGODB_URL must be set in production (in memory, every write is lost on exit)")
        if self.redis_url is None:
            raise ValueError("REDIS_URL must be set in production (in process, nothing is shared)")
        return self

    @property
    def runs_worker_in_process(self) -> bool:
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.redis_url is None and self.environment is not Environment.TEST

    @property
    def in_memory_mongo(self) -> bool:
        return self.mongodb_url is None

    @property
    def in_memory_redis(self) -> bool:
        return self.redis_url is None


@lru_cache
def get_settings() -> Settings:
    return Settings()


def describe_invalid(exc: ValidationError) -> list[str]:
    """One line per invalid setting, naming its environment variable, for an operator's terminal."""
    lines = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error.get("loc", ())).upper()
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if name else message)
    return lines
