"""An app whose lifespan ended is freed: the test plugin makes one per test, so an app kept alive
by anything process-wide (a cache of endpoint functions that close over it, a registry) grows every
suite's memory by an app per test, and slows each garbage collection with it."""

import gc
import weakref

import httpx
from asgi_lifespan import LifespanManager

from backend.main import create_app
from backend.testing import BASE_URL, UserFactory, make_team, make_test_settings


async def served_once() -> weakref.ref[object]:
    app = create_app(make_test_settings())
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http,
    ):
        users = UserFactory(app, http)
        team = await make_team(users)
        assert (await team.member.client.post(team.tasks_url, json={"title": "One"})).status_code == 201
        assert (await team.viewer.client.get(team.tasks_url)).status_code == 200
        for page in ("/openapi.json", "/docs", "/redoc", "/health/live"):
            assert (await http.get(page)).status_code == 200, page
        await users.close()
    return weakref.ref(app)


async def test_an_app_is_freed_once_its_lifespan_ended() -> None:
    gone = await served_once()
    gc.collect()

    assert gone() is None, [type(r).__name__ for r in gc.get_referrers(gone())]
