"""A project's webhooks (admins and owners): subscriptions, their signing secrets, and the log of
their deliveries, which may be sent again."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from backend.access.dependencies import AUTH_ERRORS
from backend.core.http.errors import error_responses
from backend.core.http.headers import header_refs
from backend.core.http.preconditions import IfMatch, PreconditionFailed
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.projects.dependencies import ProjectScopeDep
from backend.projects.errors import InsufficientRole, ProjectNotFound
from backend.webhooks.contract import VERIFY
from backend.webhooks.dependencies import DeliveryOfWebhook, WebhookInProject, WebhookServiceDep
from backend.webhooks.documents import Webhook
from backend.webhooks.errors import DeliveryNotFound, TargetRefused, WebhookNotFound
from backend.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from backend.webhooks.service import delivery_read, webhook_read, webhook_with_secret

router = APIRouter(
    prefix=API_PREFIX + "/projects/{project_id}/webhooks", tags=["webhooks"], route_class=ApiRoute
)
ADMIN = (*AUTH_ERRORS, ProjectNotFound, InsufficientRole)
ONE = (*ADMIN, WebhookNotFound)
ETAG = header_refs("ETag")
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


CREATE = """Subscribe a URL to changes of the project (admins and owners). The answer holds the
signing secret, shown this once (rotate it to get a new one). The `webhooks` section of this
document shows each delivery's body and headers.
"""


def webhook_location(webhook: Webhook) -> str:
    return f"/api/v1/projects/{webhook.project_id}/webhooks/{webhook.id}"


@router.post(
    "",
    name="create",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookWithSecret,
    responses={201: {"headers": ETAG}, **error_responses(*ADMIN, TargetRefused)},
    description=CREATE + VERIFY,
)
async def create_webhook(
    data: WebhookCreate, scope: ProjectScopeDep, webhooks: WebhookServiceDep
) -> Response:
    """Subscribe a URL to changes of the project (admins and owners); the contract's description
    adds how receivers verify deliveries (`contract.VERIFY`)."""
    webhook = await webhooks.create(scope, data)
    return JSONResponse(
        webhook_with_secret(webhook).model_dump(mode="json"),
        status_code=201,
        headers={"ETag": webhook.etag, "Location": webhook_location(webhook)},
    )


@router.get("", name="list", response_model=Page[WebhookRead], responses=error_responses(*ADMIN))
async def list_webhooks(
    scope: ProjectScopeDep, webhooks: WebhookServiceDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[WebhookRead]:
    """The project's webhooks, oldest first (admins and owners). Secrets are never listed."""
    return await webhooks.page(scope, cursor=cursor, limit=limit)


@router.get(
    "/{webhook_id}",
    name="get",
    response_model=WebhookRead,
    responses={200: {"headers": ETAG}, **error_responses(*ONE)},
)
async def read_webhook(webhook: WebhookInProject) -> Response:
    """One webhook, with its ETag (admins and owners)."""
    return JSONResponse(webhook_read(webhook).model_dump(mode="json"), headers={"ETag": webhook.etag})


@router.patch(
    "/{webhook_id}",
    name="update",
    response_model=WebhookRead,
    responses={200: {"headers": ETAG}, **error_responses(*ONE, TargetRefused, PreconditionFailed)},
)
async def update_webhook(
    data: WebhookUpdate, webhook: WebhookInProject, webhooks: WebhookServiceDep, if_match: IfMatch = None
) -> Response:
    """Change the URL, the events, the description, or pause and resume it with `active`.
    Activating a webhook the server disabled resets its run of failures; deliveries it missed
    while inactive are not sent. With If-Match, only if unchanged (else 412)."""
    changed = await webhooks.update(webhook, data, if_match=if_match)
    return JSONResponse(webhook_read(changed).model_dump(mode="json"), headers={"ETag": changed.etag})


@router.post(
    "/{webhook_id}/rotate-secret",
    name="rotate-secret",
    response_model=WebhookWithSecret,
    responses={200: {"headers": ETAG}, **error_responses(*ONE, PreconditionFailed)},
)
async def rotate_webhook_secret(
    webhook: WebhookInProject, webhooks: WebhookServiceDep, if_match: IfMatch = None
) -> Response:
    """Replace the signing secret: the answer shows the new one, once; attempts from now on are
    signed with it. With If-Match, only if unchanged (else 412)."""
    changed = await webhooks.rotate_secret(webhook, if_match=if_match)
    return JSONResponse(webhook_with_secret(changed).model_dump(mode="json"), headers={"ETag": changed.etag})


@router.delete(
    "/{webhook_id}",
    name="delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*ONE, PreconditionFailed),
)
async def delete_webhook(
    webhook: WebhookInProject, webhooks: WebhookServiceDep, if_match: IfMatch = None
) -> None:
    """Delete a webhook; its pending deliveries are not sent. With If-Match, only if unchanged."""
    await webhooks.delete(webhook, if_match=if_match)


@router.post(
    "/{webhook_id}/ping",
    name="ping",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=error_responses(*ONE),
)
async def ping_webhook(webhook: WebhookInProject, webhooks: WebhookServiceDep) -> DeliveryRead:
    """Send a `webhook.ping` message now (signed like any other), to test a receiver; the answer is
    the pending delivery, whose outcome the delivery log shows."""
    return delivery_read(await webhooks.ping(webhook))


@router.get(
    "/{webhook_id}/deliveries",
    name="deliveries",
    response_model=Page[DeliveryRead],
    responses=error_responses(*ONE),
)
async def list_deliveries(
    webhook: WebhookInProject,
    webhooks: WebhookServiceDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DeliveryRead]:
    """The webhook's deliveries, newest first: status, attempts, and the last attempt's response
    code, latency and the start of its answer. Kept for `WEBHOOK_DELIVERY_RETENTION_DAYS`."""
    return await webhooks.deliveries(webhook, cursor=cursor, limit=limit)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    name="redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=error_responses(*ONE, DeliveryNotFound),
)
async def redeliver(delivery: DeliveryOfWebhook, webhooks: WebhookServiceDep) -> DeliveryRead:
    """Send a delivery's message again, as a new delivery with the same `webhook-id` and body (a
    receiver that dropped it as a repeat may need to forget that id). Answers the new delivery."""
    return delivery_read(await webhooks.redeliver(delivery))
