"""Reading the activity log (append-only: nothing here changes it) and the live event stream."""

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlencode

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from backend.access.dependencies import AUTH_ERRORS, AccessFactsDep
from backend.access.policy import project_access
from backend.activity.dependencies import ActivityServiceDep
from backend.activity.events import (
    EventBus,
    LastEventIdHeader,
    ResumeAfterQuery,
    Subscription,
    streamed,
    subscribed,
)
from backend.activity.schemas import ActivityRead, ProjectEvent, StreamTicket
from backend.activity.stream import project_events
from backend.activity.verbs import ActivityVerb
from backend.core.caching.reads import cached_read
from backend.core.caching.responses import CachedResponse, json_entry
from backend.core.dependencies import RedisDep
from backend.core.http.errors import error_responses
from backend.core.http.headers import header_refs
from backend.core.http.openapi import event_stream
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.projects.dependencies import PROJECT_KEYS, ProjectScopeDep, StreamedProject, VisibleProject
from backend.projects.errors import ProjectNotFound
from backend.resources import resources_of
from backend.tasks.dependencies import TASK_KEYS, TaskScopeDep, TaskServiceDep
from backend.tasks.errors import TaskNotFound

router = APIRouter(prefix=API_PREFIX + "/projects/{project_id}", tags=["activity"], route_class=ApiRoute)

Verbs = Annotated[list[ActivityVerb], Query(alias="verb", description="Any of these verbs.")]
Actor = Annotated[str | None, Query(max_length=24, pattern=r"^[0-9a-f]{24}$", description="A user id.")]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _actor(actor: str | None) -> PydanticObjectId | None:
    return PydanticObjectId(actor) if actor else None  # the query pattern admits only 24-hex ids


@cached_read(
    router,
    "/activity",
    keys=PROJECT_KEYS,
    name="list",
    response_model=Page[ActivityRead],
    responses=error_responses(*AUTH_ERRORS, ProjectNotFound),
)
async def project_activity(
    scope: ProjectScopeDep,
    activity: ActivityServiceDep,
    verbs: Verbs = [],  # noqa: B006
    actor: Actor = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> CachedResponse:
    """What changed in the project, newest first."""

    page = await activity.page(
        scope.project_id, verbs=verbs, actor_id=_actor(actor), cursor=cursor, limit=limit
    )
    return json_entry(page)


@cached_read(
    router,
    "/tasks/{task_id}/activity",
    keys=TASK_KEYS,
    name="list-for-task",
    response_model=Page[ActivityRead],
    responses=error_responses(*AUTH_ERRORS, ProjectNotFound, TaskNotFound),
)
async def task_activity(
    task_id: str,
    scope: TaskScopeDep,
    activity: ActivityServiceDep,
    tasks: TaskServiceDep,
    verbs: Verbs = [],  # noqa: B006
    actor: Actor = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> CachedResponse:
    """What changed on one task and its comments, newest first."""
    task = await tasks.get(scope.project_id, scope.task_id)
    page = await activity.page(
        task.project_id, task_id=task.id, verbs=verbs, actor_id=_actor(actor), cursor=cursor, limit=limit
    )
    return json_entry(page)


@router.post(
    "/events/tickets",
    name="stream_ticket",
    responses=error_responses(*AUTH_ERRORS, ProjectNotFound),
)
async def project_stream_ticket(access: VisibleProject, request: Request) -> StreamTicket:
    """A ticket to open this project's event stream from a browser's EventSource (which cannot send
    `Authorization`): valid on that stream only, until `expires_at`, for the session or personal
    access token that asked for it (ending either refuses it)."""
    path = request.url.path.removesuffix("/tickets")  # the stream's path, as its request will name it
    ticket, expires_at = resources_of(request.app).stream_tickets.issue(access.caller, path)
    # Absolute: a frontend on another origin (CORS_ORIGINS) opens it as it is.
    url = request.url.replace(path=path, query=urlencode({"ticket": ticket}))
    return StreamTicket(ticket=ticket, url=str(url), expires_at=expires_at)


async def project_subscription(access: StreamedProject, redis: RedisDep) -> AsyncIterator[Subscription]:
    """The project's events, subscribed before the stream's answer starts (503 if Redis is down)."""
    async with subscribed(EventBus(redis).subscribe(access.grant.project_id)) as live:
        yield live


ProjectSubscription = Annotated[Subscription, Depends(project_subscription)]


@router.get(
    "/events",
    name="stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Events: `event` an `ActivityVerb`, `data` an `ActivityRead` (JSON).",
            "headers": header_refs("Cache-Control", "X-Accel-Buffering"),
        },
        **error_responses(*AUTH_ERRORS, ProjectNotFound),
    },
    openapi_extra=event_stream(ProjectEvent),
)
async def project_event_stream(
    access: StreamedProject,
    activity: ActivityServiceDep,
    facts: AccessFactsDep,
    live: ProjectSubscription,
    request: Request,
    last_event_id: LastEventIdHeader = None,
    resume_after: ResumeAfterQuery = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events of the project's changes (tasks, comments, members), for members.

    Each event has the activity id as `id`, the verb as `event` and the activity record as `data`
    (JSON). Reconnect with `Last-Event-ID` to get the missed events first, once each.
    The stream ends within a few seconds when you may no longer see the project, your session ends
    or your account is disabled. When the server shuts down it ends with a `retry` of 250 ms:
    reconnect (the browser's EventSource does), and another server answers.

    While Redis (which carries live events) is unreachable, the stream answers 503
    `SERVICE_UNAVAILABLE` with `Retry-After` before anything is streamed. When Redis or the
    database fails while it is open, it ends with a `retry` of 5 s: reconnect then (the EventSource
    does), with `Last-Event-ID`, and nothing is missed.

    From a browser: get a ticket (`POST .../events/tickets`), then `new EventSource(ticket.url)`.
    The EventSource reconnects by itself with the ticket until `expires_at`; when it gives up
    (`readyState` CLOSED), get a new ticket and open `url` + `&last_event_id=<the last id seen>`.
    """
    project_id = access.grant.project_id
    caller = access.caller
    resources = resources_of(request.app)
    authenticator, drain = resources.authenticator, resources.drain

    async def still_allowed() -> bool:
        now = await authenticator.current(caller)
        if now is None:
            return False
        members = await facts.member_map(project_id)
        return members is not None and project_access(now, members) is not None

    events = project_events(
        project_id,
        still_allowed=still_allowed,
        draining=lambda: drain.started,
        last_event_id=last_event_id or resume_after,
        activity=activity,
        live=live,
    )
    async for event in streamed(events):
        yield event
