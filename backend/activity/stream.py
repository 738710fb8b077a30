"""The live stream of a project's activity for one member, resumable with Last-Event-ID."""

from collections.abc import AsyncIterator

from beanie import PydanticObjectId
from fastapi.sse import ServerSentEvent

from backend.activity.events import EventBus
from backend.activity.schemas import ActivityRead
from backend.activity.service import ActivityService
from backend.projects.documents import Project

RESUME_LIMIT = 1000
RECONNECT_MS = 3000
# How often, without events, the stream re-checks that the caller is still a member.
MEMBERSHIP_CHECK_SECONDS = 5.0


def _event(activity: dict[str, object]) -> ServerSentEvent:
    return ServerSentEvent(id=str(activity["id"]), event=str(activity["verb"]), data=activity)


async def _still_member(project_id: PydanticObjectId, user_id: PydanticObjectId) -> bool:
    return await Project.find({"_id": project_id, "members.user_id": user_id}).count() == 1


async def project_events(
    project_id: PydanticObjectId,
    user_id: PydanticObjectId,
    *,
    last_event_id: str | None,
    activity: ActivityService,
    events: EventBus,
) -> AsyncIterator[ServerSentEvent]:
    """Missed events first (after Last-Event-ID, each once), then live ones, until the caller is removed."""
    async with events.subscribe(project_id) as live:  # before reading the log: nothing falls between
        # Tells the client the stream is live, and how long to wait before reconnecting.
        yield ServerSentEvent(comment="connected", retry=RECONNECT_MS)
        sent: set[str] = set()
        if last_event_id and PydanticObjectId.is_valid(last_event_id):
            missed = await activity.since(project_id, PydanticObjectId(last_event_id), RESUME_LIMIT)
            for read in await activity.read(missed):
                sent.add(str(read.id))
                yield _event(read.model_dump(mode="json"))
        while True:
            message = await live.next(timeout=MEMBERSHIP_CHECK_SECONDS)
            if message is None:
                if not await _still_member(project_id, user_id):
                    return
                continue
            if message["id"] in sent:
                continue
            yield _event(message)
            if message["verb"] == "member.removed" and message["target"]["id"] == str(user_id):
                return


__all__ = ["ActivityRead", "project_events"]
