from typing import Annotated

from fastapi import Depends, Request

from backend.core.ids import parse_id
from backend.projects.dependencies import ProjectScopeDep
from backend.resources import AppResources, resources_of
from backend.webhooks.documents import Webhook, WebhookDelivery
from backend.webhooks.errors import DeliveryNotFound, WebhookNotFound
from backend.webhooks.service import WebhookService


def webhook_service(resources: AppResources) -> WebhookService:
    assert resources.background is not None, "the lifespan sets up the queue"
    return WebhookService(resources.settings, resources.cursors, resources.background.outbox)


async def get_webhook_service(request: Request) -> WebhookService:
    return webhook_service(resources_of(request.app))


WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]


async def webhook_in_project(webhook_id: str, scope: ProjectScopeDep, webhooks: WebhookServiceDep) -> Webhook:
    """A webhook of a project the caller administers: 404 when not the project's, 403 below admin."""
    return await webhooks.get(scope, parse_id(webhook_id, WebhookNotFound))


WebhookInProject = Annotated[Webhook, Depends(webhook_in_project)]


async def delivery_of_webhook(
    delivery_id: str, webhook: WebhookInProject, webhooks: WebhookServiceDep
) -> WebhookDelivery:
    return await webhooks.delivery(webhook, parse_id(delivery_id, DeliveryNotFound))


DeliveryOfWebhook = Annotated[WebhookDelivery, Depends(delivery_of_webhook)]
