"""Every route but health, metrics and docs is rate limited: per principal, or per IP without one."""

import httpx
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.config import Settings
from backend.core.ratelimit.limiter import RateLimiter
from backend.core.ratelimit.rules import RateLimited, Rule, Window
from backend.core.ratelimit.stores import MemoryWindows
from backend.testing import UserFactory, make_test_settings


@pytest.fixture
def settings() -> Settings:
    return make_test_settings(rate_limit_authenticated="5/minute", rate_limit_anonymous="4/minute")


async def test_authenticated_requests_count_per_user(users: UserFactory) -> None:
    alice, bob = await users.create(), await users.create()  # 4 anonymous requests: register, log in

    responses = [await alice.client.get("/api/v1/users/me") for _ in range(6)]

    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert [r.headers["ratelimit-remaining"] for r in responses[:5]] == ["4", "3", "2", "1", "0"]
    assert all(r.headers["ratelimit-limit"] == "5" for r in responses)
    limited = responses[-1]
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["error_code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert (await bob.client.get("/api/v1/users/me")).status_code == 200


async def test_personal_access_tokens_have_their_own_bucket(
    users: UserFactory, client: httpx.AsyncClient
) -> None:
    alice = await users.create()
    token = (await alice.client.post("/api/v1/users/me/tokens", json={"name": "ci"})).json()["token"]

    statuses = [
        (await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})).status_code
        for _ in range(6)
    ]

    assert statuses == [200] * 5 + [429]


async def test_anonymous_requests_count_per_ip(client: httpx.AsyncClient) -> None:
    statuses = [(await client.get("/api/v1/users/me")).status_code for _ in range(5)]

    assert statuses == [401, 401, 401, 401, 429]


async def test_forged_tokens_count_as_anonymous(client: httpx.AsyncClient) -> None:
    statuses = [
        (
            await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer forged.{i}.token"})
        ).status_code
        for i in range(5)
    ]

    assert statuses == [401, 401, 401, 401, 429]


async def test_health_and_metrics_are_never_limited(client: httpx.AsyncClient) -> None:
    for _ in range(10):
        response = await client.get("/health/live")
        assert response.status_code == 200
        assert "ratelimit-limit" not in response.headers
    assert (await client.get("/metrics")).status_code == 200


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_the_previous_window_weighs_what_still_overlaps_the_sliding_window() -> None:
    clock = Clock(100 * 60 + 30.0)  # half way through a minute
    limiter = RateLimiter(MemoryWindows(clock))
    for _ in range(10):
        await limiter.hit("10/minute", "alice")
    with pytest.raises(RateLimited):
        await limiter.hit("10/minute", "alice")

    clock.now += 60  # half way through the next minute: the previous ten weigh five
    quotas = [await limiter.hit("10/minute", "alice") for _ in range(5)]

    assert [q.remaining for q in quotas] == [4, 3, 2, 1, 0]
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("10/minute", "alice")
    assert refused.value.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 30
    assert (await limiter.hit("10/minute", "bob")).remaining == 9


async def test_idle_keys_are_forgotten() -> None:
    clock = Clock(1000.0)
    windows = MemoryWindows(clock)
    limiter = RateLimiter(windows)
    for i in range(MemoryWindows.SWEEP_EVERY - 1):
        await limiter.hit("5/second", f"client-{i}")

    clock.now += 3  # two windows later, every one of those keys is idle
    await limiter.hit("5/second", "last")

    assert len(windows) == 1


class BrokenStore:
    async def take(self, key: str, rule: Rule) -> Window:
        raise RedisConnectionError("gone")


async def test_while_the_shared_store_fails_the_process_limits_on_its_own() -> None:
    limiter = RateLimiter(BrokenStore(), fallback=MemoryWindows())

    quotas = [await limiter.hit("2/minute", "alice") for _ in range(2)]

    assert [q.remaining for q in quotas] == [1, 0]
    with pytest.raises(RateLimited):
        await limiter.hit("2/minute", "alice")
