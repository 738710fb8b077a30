"""Each process follows the generations in Redis instead of asking for them on every request, and
access inputs through MongoDB's change stream (backend/access/facts.py): a change made through one
instance reaches another's cache hits as soon as the message does, and nothing known is trusted
once the process cannot hear it."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import fakeredis
import httpx
import pytest
from fastapi import FastAPI

from backend.core.caching import keys
from backend.core.caching.mirror import KeyMirror
from backend.core.caching.stores import RedisStore
from backend.core.storage.redis import RedisClient
from backend.resources import resources_of
from backend.testing import Team, UserFactory, another_instance, cached_reads

SOON = 1.0  # seconds: Redis's message takes well under a millisecond on loopback


async def within(seconds: float, condition: Callable[[], Awaitable[bool]]) -> float:
    """How long `condition` took to hold; fails after `seconds`."""
    start = time.monotonic()
    while not await condition():
        assert time.monotonic() - start < seconds, "the change did not arrive"
        await asyncio.sleep(0.005)
    return time.monotonic() - start


@pytest.fixture
async def other(app: FastAPI) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A second instance of the API on the same MongoDB and Redis, following them."""
    async with another_instance(app) as second:
        yield second


async def hit(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    """GET `url` until it is a cache hit, as it is on the second request."""
    for _ in range(3):
        response = await client.get(url, headers=headers)
        if response.headers.get("x-cache") == "HIT":
            return response
    raise AssertionError(f"{url} is not cached")


@pytest.mark.real_servers
async def test_a_write_through_one_instance_reaches_the_cache_hits_of_another(
    team: Team, other: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    second, via_second = other
    task = (await team.member.client.post(team.tasks_url, json={"title": "Draft"})).json()
    url = f"{team.tasks_url}/{task['id']}"
    served = cached_reads(second).served if second.middleware_stack else 0
    await hit(via_second, url, team.viewer.headers)
    assert cached_reads(second).served > served  # by the fast path

    await team.member.client.patch(url, json={"title": "Final"})

    async def shows_it() -> bool:
        return bool((await via_second.get(url, headers=team.viewer.headers)).json()["title"] == "Final")

    await within(SOON, shows_it)
    assert (await hit(via_second, url, team.viewer.headers)).json()["title"] == "Final"


# How the viewer loses access, and what the viewer is told after.
ENDED_ACCESS = {"removed from the project": 404, "logged out": 401, "disabled": 401}


async def end_access(how: str, team: Team, users: UserFactory) -> httpx.Response:
    if how == "removed from the project":
        return await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")
    if how == "logged out":
        return await team.viewer.client.post("/api/v1/auth/logout")
    admin = await users.create(role="admin")
    return await admin.client.patch(f"/api/v1/users/{team.viewer.id}", json={"disabled": True})


@pytest.mark.real_servers
@pytest.mark.parametrize("how", list(ENDED_ACCESS))
async def test_access_ended_through_one_instance_ends_the_cache_hits_of_another(
    how: str, team: Team, users: UserFactory, other: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    _, via_second = other
    task = (await team.member.client.post(team.tasks_url, json={"title": "Secret"})).json()
    url = f"{team.tasks_url}/{task['id']}"
    await hit(via_second, url, team.viewer.headers)

    assert (await end_access(how, team, users)).is_success

    async def refused() -> bool:
        return (await via_second.get(url, headers=team.viewer.headers)).status_code == ENDED_ACCESS[how]

    await within(SOON, refused)
    assert (await via_second.get(url, headers=team.viewer.headers)).status_code == ENDED_ACCESS[how]


@pytest.mark.real_servers
async def test_a_flush_of_redis_forgets_all_a_process_knew(
    team: Team, other: tuple[FastAPI, httpx.AsyncClient], redis: RedisClient
) -> None:
    second, via_second = other
    task = (await team.member.client.post(team.tasks_url, json={"title": "Kept"})).json()
    await hit(via_second, f"{team.tasks_url}/{task['id']}", team.viewer.headers)
    mirror = resources_of(second).stores.key_mirror
    assert mirror is not None
    followed = [keys.task_generation(task["id"])]  # what a hit on the task reads first
    assert mirror.known(followed).keys() == set(followed)

    await redis.flushdb()

    async def forgotten() -> bool:
        return not mirror.known(followed)

    await within(SOON, forgotten)


def test_a_value_read_while_a_change_was_on_its_way_is_not_kept() -> None:
    mirror = KeyMirror(["tasklane:gen:"])
    mirror._live = True  # as when following Redis
    epoch = mirror.epoch  # a read is sent...
    mirror.forget("tasklane:gen:data:p")  # ...a change is heard of before its answer arrives

    mirror.remember("tasklane:gen:data:p", b"3", epoch)
    mirror.remember("tasklane:account:u", b"{}", mirror.epoch)  # not a followed prefix

    assert mirror.known(["tasklane:gen:data:p", "tasklane:account:u"]) == {}
    mirror.remember("tasklane:gen:data:p", b"4", mirror.epoch)
    assert mirror.known(["tasklane:gen:data:p"]) == {"tasklane:gen:data:p": b"4"}


def test_nothing_is_known_while_not_following_redis() -> None:
    mirror = KeyMirror(["tasklane:gen:"])
    mirror._live = True
    mirror.remember("tasklane:gen:data:p", b"3", mirror.epoch)
    mirror._live = False

    assert mirror.known(["tasklane:gen:data:p"]) == {}


async def test_storing_an_answer_keeps_the_generations_read_meanwhile() -> None:
    # Under load, answers are stored while other requests read generations: storing one must not
    # discard those reads (it did, and then every miss read its generation again).
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    mirror = KeyMirror(keys.MIRRORED)
    mirror._live = True  # as when following Redis
    store = RedisStore(redis, mirror)
    generation = keys.task_generation("t")
    known, missing, epoch = mirror.split([generation])  # a read is sent...

    await store.set(keys.response(["an", "answer"]), b"...", 60)  # ...another request stores an answer
    mirror.learn(missing, [b"7"], epoch)  # ...the read's answer arrives

    assert mirror.known([generation]) == {generation: b"7"}
    await store.incr(generation)  # a write of a followed key does forget it
    assert mirror.known([generation]) == {}
