"""Wiring the activity service: names come from the users domain, events go through Redis."""

from typing import Annotated

from fastapi import Depends, Request

from backend.activity.events import EventBus
from backend.activity.service import ActivityService
from backend.core.dependencies import CacheDep, RedisDep
from backend.users.dependencies import UserServiceDep


def get_activity_service(
    request: Request, users: UserServiceDep, redis: RedisDep, cache: CacheDep
) -> ActivityService:
    return ActivityService(EventBus(redis), users.display_names, request.app.state.cursors, cache)


ActivityServiceDep = Annotated[ActivityService, Depends(get_activity_service)]
