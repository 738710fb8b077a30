"""Ending background loops at shutdown, when one cancellation is not always enough."""

import asyncio
from collections.abc import Iterable
from typing import Any


async def cancel_until_done(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel the tasks, again every 0.1 s, until each has ended. A single cancellation can be lost:
    redis-py may turn one that lands inside a command into its own error, which a loop survives, and
    on Python 3.11 `asyncio.wait_for` drops one that lands just as its inner task finishes (fixed in
    3.12). PyMongo's async API sends every command through such a `wait_for`
    (`network_layer.async_sendall`): the webhook relay then carried on polling, and a stop that
    cancelled once and gathered waited for it forever (a test hung; app shutdowns overran)."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)
