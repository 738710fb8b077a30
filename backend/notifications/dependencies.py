"""Wiring watchers and notifications."""

from typing import Annotated

from fastapi import Depends, Request

from backend.notifications.events import UserEvents
from backend.notifications.service import NotificationService
from backend.resources import AppResources, resources_of
from backend.users.dependencies import user_service


def notification_service(resources: AppResources) -> NotificationService:
    return NotificationService(
        user_service(resources), resources.access_facts, resources.cursors, UserEvents(resources.stores.redis)
    )


async def get_notification_service(request: Request) -> NotificationService:
    return notification_service(resources_of(request.app))


NotificationServiceDep = Annotated[NotificationService, Depends(get_notification_service)]
