"""Stopping the background work ends its loops even when one of them survives a cancellation: on
Python 3.11, asyncio.wait_for (inside every command PyMongo's async API sends) drops a cancellation
that lands just as its inner task finishes, and the webhook relay loop then went on polling while
the stop waited for it (a test hung; app shutdowns overran their 10 s)."""

import asyncio
import contextlib
from typing import Any, cast

import httpx

from backend.worker import Background


async def test_stop_ends_a_loop_that_survived_a_cancellation() -> None:
    async def survives_one_cancellation() -> None:
        with contextlib.suppress(asyncio.CancelledError):  # lost, as asyncio.wait_for loses it on 3.11
            await asyncio.sleep(3600)
        await asyncio.sleep(3600)

    loop_task = asyncio.create_task(survives_one_cancellation())
    await asyncio.sleep(0)  # started: waiting in its first sleep
    background = Background(
        queue=cast(Any, None), outbox=cast(Any, None), http=httpx.AsyncClient(), owns_redis=False
    )
    background.tasks.append(loop_task)

    async with asyncio.timeout(5):
        await background.stop()

    assert loop_task.cancelled()
