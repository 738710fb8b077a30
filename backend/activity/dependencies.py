"""Wiring the activity service: names come from the users domain, events go through Redis."""

from typing import Annotated

from fastapi import Depends, Request

from backend.activity.events import EventBus
from backend.activity.service import ActivityService
from backend.notifications.dependencies import notification_service
from backend.resources import AppResources, resources_of
from backend.users.dependencies import user_service


def activity_service(resources: AppResources) -> ActivityService:
    return ActivityService(
        EventBus(resources.stores.redis),
        user_service(resources).people,
        resources.cursors,
        notification_service(resources).heard,  # who is told of each change
    )


async def get_activity_service(request: Request) -> ActivityService:
    return activity_service(resources_of(request.app))


ActivityServiceDep = Annotated[ActivityService, Depends(get_activity_service)]
