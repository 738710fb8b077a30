"""One person's live stream: their new notifications and their unread count, resumable with
Last-Event-ID. What it shows is decided by the one access policy as things are now, like the lists."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from beanie import PydanticObjectId
from fastapi.sse import ServerSentEvent

from backend.access.caller import Caller
from backend.activity.events import Subscription
from backend.activity.stream import ACCESS_CHECK_SECONDS, DRAIN_POLL_SECONDS, DRAIN_RECONNECT_MS, RECONNECT_MS
from backend.notifications.schemas import NotificationRead, UserEventData, UserEventKind
from backend.notifications.service import NotificationService


def _notification(read: NotificationRead, unread: int) -> ServerSentEvent:
    data = UserEventData(notification=read, unread=unread).model_dump(mode="json")
    return ServerSentEvent(id=str(read.id), event=UserEventKind.NOTIFICATION.value, data=data)


def _count(unread: int) -> ServerSentEvent:
    # No id: the browser keeps the last notification's as Last-Event-ID.
    data = UserEventData(notification=None, unread=unread).model_dump(mode="json")
    return ServerSentEvent(event=UserEventKind.UNREAD_COUNT.value, data=data)


async def user_events(
    caller: Caller,
    *,
    current: Callable[[], Awaitable[Caller | None]],
    draining: Callable[[], bool],
    last_event_id: str | None,
    notifications: NotificationService,
    live: Subscription,
) -> AsyncIterator[ServerSentEvent]:
    """Missed notifications first (after Last-Event-ID), then the unread count, then live ones, each
    with the count after it. `current()` (asked every ACCESS_CHECK_SECONDS and before each event)
    gives the caller as they are now, or None when their session, token or account ended: the
    stream then ends. `live` is subscribed already (before the answer started, and before anything
    is read here: nothing falls between). A notification of a project they may no longer see is
    never sent, and the count leaves such projects out, also when access is lost while the stream
    is open."""
    yield ServerSentEvent(comment="connected", retry=RECONNECT_MS)
    sent: set[str] = set()
    # Unread counts of every project, those the caller may not see now too: when access comes
    # back (or goes), re-filtering them gives the count to show without asking MongoDB again.
    counts = await notifications.unread_anywhere(caller)
    shown = await _shown(notifications, caller, counts)
    if last_event_id and PydanticObjectId.is_valid(last_event_id):
        missed = await notifications.since(caller, PydanticObjectId(last_event_id))
        for read in await notifications.read(missed):
            sent.add(str(read.id))
            yield _notification(read, shown)
    yield _count(shown)
    checked = time.monotonic()
    while True:
        message = await live.next(timeout=DRAIN_POLL_SECONDS)
        if draining():
            yield ServerSentEvent(comment="server shutting down: reconnect", retry=DRAIN_RECONNECT_MS)
            return
        if message is None and time.monotonic() - checked < ACCESS_CHECK_SECONDS:
            continue
        now = await current()
        if now is None:
            return
        caller = now
        checked = time.monotonic()
        if message is None:
            # Access may have narrowed or widened: the counts per project are known, only the
            # policy is asked again (on the process's copies of the member maps).
            unread = await _shown(notifications, caller, counts)
            if unread != shown:
                shown = unread
                yield _count(shown)
            continue
        found = message.get("notification")
        if isinstance(found, dict):
            read = NotificationRead.model_validate(found)
            if str(read.id) in sent:
                continue
            counts = await notifications.unread_anywhere(caller)
            shown = await _shown(notifications, caller, counts)
            if read.project_id in await notifications.visible_projects(caller, [read.project_id]):
                sent.add(str(read.id))
                yield _notification(read, shown)
            continue
        counts = await notifications.unread_anywhere(caller)  # some were read
        unread = await _shown(notifications, caller, counts)
        if unread != shown:
            shown = unread
            yield _count(shown)


async def _shown(
    notifications: NotificationService, caller: Caller, counts: dict[PydanticObjectId, int]
) -> int:
    """The unread count to show: of the projects the caller may see now."""
    return sum((await notifications.visible_counts(caller, counts)).values())
