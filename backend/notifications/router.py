"""Watching tasks, your notifications, and your live stream of them."""

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from backend.access.dependencies import AUTH_ERRORS, CurrentCaller, StreamCaller
from backend.activity.events import LastEventIdHeader, ResumeAfterQuery, Subscription, streamed, subscribed
from backend.activity.schemas import StreamTicket
from backend.core.dependencies import RedisDep
from backend.core.http.errors import error_responses
from backend.core.http.headers import header_refs
from backend.core.http.openapi import event_stream
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.notifications.dependencies import NotificationServiceDep
from backend.notifications.events import UserEvents
from backend.notifications.schemas import (
    NotificationRead,
    NotificationsMark,
    UnreadCount,
    UserEvent,
    WatcherRead,
    WatchRead,
)
from backend.notifications.stream import user_events
from backend.projects.dependencies import VisibleProject
from backend.projects.documents import ProjectRole
from backend.projects.errors import InsufficientRole, ProjectNotFound
from backend.resources import resources_of
from backend.tasks.dependencies import TaskInProject
from backend.tasks.errors import TaskNotFound

Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]

watchers_router = APIRouter(
    prefix=API_PREFIX + "/projects/{project_id}/tasks/{task_id}/watchers",
    tags=["watchers"],
    route_class=ApiRoute,
)
SEEN = (*AUTH_ERRORS, ProjectNotFound, TaskNotFound)


@watchers_router.get("", name="list", responses=error_responses(*SEEN))
async def list_watchers(
    task: TaskInProject,
    access: VisibleProject,
    notifications: NotificationServiceDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[WatcherRead]:
    """Who watches the task (hears of its comments and status changes), oldest first. Its creator,
    its assignees, commenters and the people mentioned in it watch by themselves; people no longer
    in the project are left out (a page may then hold fewer than `limit`)."""
    assert task.id is not None
    members = {m.user_id for m in access.project.members}
    return await notifications.watchers(task.project_id, task.id, members, cursor=cursor, limit=limit)


@watchers_router.put("/me", name="watch", responses=error_responses(*SEEN, InsufficientRole))
async def watch_task(
    task: TaskInProject, access: VisibleProject, notifications: NotificationServiceDep
) -> WatchRead:
    """Watch the task (any role in the project; idempotent). A global admin who is not a member gets
    403: notifications go to members only."""
    access.require(ProjectRole.VIEWER)
    assert task.id is not None
    await notifications.watch(task.project_id, task.id, access.user_id)
    return WatchRead(task_id=task.id, watching=True)


@watchers_router.delete(
    "/me", name="unwatch", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(*SEEN)
)
async def unwatch_task(
    task: TaskInProject, access: VisibleProject, notifications: NotificationServiceDep
) -> None:
    """Stop watching the task (idempotent). Commenting on it, being assigned it or mentioned in it
    makes you watch it again."""
    assert task.id is not None
    await notifications.unwatch(task.id, access.user_id)


router = APIRouter(prefix=API_PREFIX + "/users/me", tags=["notifications"], route_class=ApiRoute)


@router.get("/notifications", name="list", responses=error_responses(*AUTH_ERRORS))
async def list_notifications(
    caller: CurrentCaller,
    notifications: NotificationServiceDep,
    unread: Annotated[bool, Query(description="Only the unread ones.")] = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[NotificationRead]:
    """Your notifications, newest first: `assigned`, `mentioned`, `commented` and `status_changed`
    (on tasks you watch), and `due_soon` (a task assigned to you is due soon: no actor, no activity;
    once per due date). Never of your own changes; one per change at most. Those of projects you
    can no longer see are left out (and come back if you are added again)."""
    return await notifications.page(caller, unread=unread, cursor=cursor, limit=limit)


@router.get("/notifications/unread-count", name="unread-count", responses=error_responses(*AUTH_ERRORS))
async def unread_count(caller: CurrentCaller, notifications: NotificationServiceDep) -> UnreadCount:
    """How many of your notifications are unread, in the projects you can see now."""
    return UnreadCount(unread=await notifications.unread_count(caller))


@router.post("/notifications/read", name="mark-read", responses=error_responses(*AUTH_ERRORS))
async def mark_read(
    data: NotificationsMark, caller: CurrentCaller, notifications: NotificationServiceDep
) -> UnreadCount:
    """Mark notifications read: `ids` (up to 100 of yours; others are ignored), or all created up to
    `up_to` (e.g. the newest one's `created_at` you showed). Answers your unread count after it;
    your open streams get an `unread_count` event."""
    unread = await notifications.mark_read(caller, ids=data.ids or [], up_to=data.up_to)
    return UnreadCount(unread=unread)


@router.post("/events/tickets", name="stream-ticket", responses=error_responses(*AUTH_ERRORS))
async def user_stream_ticket(caller: CurrentCaller, request: Request) -> StreamTicket:
    """A ticket to open your own event stream from a browser's EventSource (which cannot send
    `Authorization`): valid on that stream only, until `expires_at`, for this session or personal
    access token."""
    path = request.url.path.removesuffix("/tickets")
    ticket, expires_at = resources_of(request.app).stream_tickets.issue(caller, path)
    url = request.url.replace(path=path, query=urlencode({"ticket": ticket}))
    return StreamTicket(ticket=ticket, url=str(url), expires_at=expires_at)


async def user_subscription(caller: StreamCaller, redis: RedisDep) -> AsyncIterator[Subscription]:
    """The caller's events, subscribed before the stream's answer starts (503 if Redis is down)."""
    async with subscribed(UserEvents(redis).subscribe(caller.user_id)) as live:
        yield live


UserSubscription = Annotated[Subscription, Depends(user_subscription)]


@router.get(
    "/events",
    name="stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Events: `notification` (a new one, with the unread count) and "
            "`unread_count` (the count alone, when it changed otherwise).",
            "headers": header_refs("Cache-Control", "X-Accel-Buffering"),
        },
        **error_responses(*AUTH_ERRORS),
    },
    openapi_extra=event_stream(UserEvent),
)
async def user_event_stream(
    caller: StreamCaller,
    notifications: NotificationServiceDep,
    live: UserSubscription,
    request: Request,
    last_event_id: LastEventIdHeader = None,
    resume_after: ResumeAfterQuery = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events of your notifications, as they happen.

    First an `unread_count` event with your unread count; then a `notification` event for each new
    notification (`data.notification`, and `data.unread` the count after it; `id` the notification's
    id) and an `unread_count` event whenever the count changes otherwise (you read some, or you lost
    or regained access to a project). Reconnect with `Last-Event-ID` to get the missed notifications
    first. Notifications of projects you can no longer see are never sent nor counted. The stream
    ends within a few seconds when your session ends or your account is disabled; when the server
    shuts down it ends with a `retry` of 250 ms.

    While Redis (which carries live events) is unreachable, the stream answers 503
    `SERVICE_UNAVAILABLE` with `Retry-After` before anything is streamed. When Redis or the
    database fails while it is open, it ends with a `retry` of 5 s: reconnect then (the EventSource
    does), with `Last-Event-ID`, and nothing is missed.

    From a browser: get a ticket (`POST /api/v1/users/me/events/tickets`), then
    `new EventSource(ticket.url)`, as for a project's stream.
    """
    resources = resources_of(request.app)
    authenticator, drain = resources.authenticator, resources.drain

    events = user_events(
        caller,
        current=lambda: authenticator.current(caller),
        draining=lambda: drain.started,
        last_event_id=last_event_id or resume_after,
        notifications=notifications,
        live=live,
    )
    async for event in streamed(events):
        yield event
