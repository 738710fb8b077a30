"""The live stream of a project's activity for one caller, resumable with Last-Event-ID."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from beanie import PydanticObjectId
from fastapi.sse import ServerSentEvent

from backend.activity.events import Subscription
from backend.activity.schemas import ActivityRead
from backend.activity.service import ActivityService

RESUME_LIMIT = 1000
RECONNECT_MS = 3000
# How often the stream asks again whether the caller may still see the project (a session ended, an
# account disabled, a membership removed all close it within this time).
ACCESS_CHECK_SECONDS = 2.0
# How soon a stream notices its server draining, and how soon its client should come back.
DRAIN_POLL_SECONDS = 0.5
DRAIN_RECONNECT_MS = 250


def _event(activity: dict[str, object]) -> ServerSentEvent:
    return ServerSentEvent(id=str(activity["id"]), event=str(activity["verb"]), data=activity)


async def project_events(
    project_id: PydanticObjectId,
    *,
    still_allowed: Callable[[], Awaitable[bool]],
    draining: Callable[[], bool],
    last_event_id: str | None,
    activity: ActivityService,
    live: Subscription,
) -> AsyncIterator[ServerSentEvent]:
    """Missed events first (after Last-Event-ID, each once), then live ones, for as long as
    `still_allowed()` (asked every ACCESS_CHECK_SECONDS, and before each event) says so, or until
    the server drains: then a reconnect hint ends the stream, and the client resumes elsewhere.
    `live` is subscribed already (before the answer started, and before the log is read here:
    nothing falls between)."""
    # Tells the client the stream is live, and how long to wait before reconnecting.
    yield ServerSentEvent(comment="connected", retry=RECONNECT_MS)
    sent: set[str] = set()
    if last_event_id and PydanticObjectId.is_valid(last_event_id):
        missed = await activity.since(project_id, PydanticObjectId(last_event_id), RESUME_LIMIT)
        for read in await activity.read(missed):
            sent.add(str(read.id))
            yield _event(read.model_dump(mode="json"))
    checked = time.monotonic()
    while True:
        message = await live.next(timeout=DRAIN_POLL_SECONDS)
        if draining():
            yield ServerSentEvent(comment="server shutting down: reconnect", retry=DRAIN_RECONNECT_MS)
            return
        if message is not None and message["id"] in sent:
            continue
        # Before every event too: nothing reaches a caller who lost access meanwhile.
        if message is not None or time.monotonic() - checked >= ACCESS_CHECK_SECONDS:
            if not await still_allowed():
                return
            checked = time.monotonic()
        if message is not None:
            yield _event(message)


__all__ = ["ActivityRead", "project_events"]
