"""Wiring the activity service: names come from the users domain, events go through Redis."""

from typing import Annotated, Any

from fastapi import Depends, Request

from backend.activity.events import EventBus
from backend.activity.service import ActivityService
from backend.users.dependencies import user_service


def activity_service(state: Any) -> ActivityService:
    return ActivityService(
        EventBus(state.redis), user_service(state).display_names, state.cursors, state.cache
    )


async def get_activity_service(request: Request) -> ActivityService:
    return activity_service(request.app.state)


ActivityServiceDep = Annotated[ActivityService, Depends(get_activity_service)]
