"""The application's resources, typed: made once per app, read through `resources(app)` (core) or
`backend.resources.resources_of(app)` (the domains), never as loose attributes of `app.state`.

`Resources` holds what the process makes when the app is created; `Stores`, what the lifespan
connects (the databases and what is built on them), available once the app has started.
"""

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from pymongo import monitoring

from backend.core.caching.generations import Generations
from backend.core.caching.mirror import KeyMirror
from backend.core.caching.responses import ResponseCache
from backend.core.caching.values import JsonValues
from backend.core.config import Settings
from backend.core.http.drain import Drain
from backend.core.pagination import CursorCodec
from backend.core.ratelimit.limiter import RateLimiter
from backend.core.security import AccessTokens, PasswordHasher, derive_key
from backend.core.storage.db import Mongo
from backend.core.storage.redis import RedisClient

STATE = "resources"  # the one attribute of app.state


@dataclass(frozen=True)
class Stores:
    mongo: Mongo
    redis: RedisClient
    responses: ResponseCache
    generations: Generations
    values: JsonValues
    rate_limiter: RateLimiter
    key_mirror: KeyMirror | None  # None without Redis: the in-process store needs no mirror


@dataclass
class Resources:
    settings: Settings
    command_listeners: list[monitoring.CommandListener] = field(default_factory=list)
    hasher: PasswordHasher = field(init=False)
    access_tokens: AccessTokens = field(init=False)
    cursors: CursorCodec = field(init=False)
    drain: Drain = field(default_factory=Drain)
    metrics_registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    _stores: Stores | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.hasher = PasswordHasher(self.settings)
        self.access_tokens = AccessTokens(self.settings)
        self.cursors = CursorCodec(derive_key(self.settings, "cursor"))

    @property
    def stores(self) -> Stores:
        if self._stores is None:
            raise RuntimeError("the app has not started: its stores are connected by the lifespan")
        return self._stores

    def started(self, stores: Stores | None) -> None:
        self._stores = stores


def resources(app: Any) -> Resources:
    """The app's resources (`app` is a Starlette app, or `scope["app"]` in middleware)."""
    found = getattr(app.state, STATE)
    assert isinstance(found, Resources)
    return found
