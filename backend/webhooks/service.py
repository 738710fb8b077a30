"""Webhooks of a project: project admins and owners manage them and read their deliveries."""

from typing import Any

from beanie import PydanticObjectId

from backend.access.policy import MANAGES_WEBHOOKS
from backend.core.config import Environment, Settings
from backend.core.http.preconditions import PreconditionFailed, check_if_match
from backend.core.pagination import CursorCodec, Page
from backend.core.time import as_utc, utcnow
from backend.projects.service import ProjectScope
from backend.webhooks.documents import DeliveryStatus, Webhook, WebhookDelivery
from backend.webhooks.errors import DeliveryNotFound, TargetRefused, WebhookNotFound
from backend.webhooks.outbox import Outbox
from backend.webhooks.repository import DeliveryRepository, WebhookRepository
from backend.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from backend.webhooks.signing import new_secret
from backend.webhooks.targets import Refused, resolve

_RETRIES = 3


class WebhookService:
    def __init__(self, settings: Settings, cursors: CursorCodec, outbox: Outbox) -> None:
        self._settings = settings
        self._cursors = cursors
        self._outbox = outbox
        self._webhooks = WebhookRepository()
        self._deliveries = DeliveryRepository()

    async def create(self, scope: ProjectScope, data: WebhookCreate) -> Webhook:
        scope.grant.require(MANAGES_WEBHOOKS)
        url = await self._checked(str(data.url))
        webhook = Webhook(
            project_id=scope.project_id,
            created_by=scope.user_id,
            url=url,
            events=list(dict.fromkeys(data.events)),
            active=data.active,
            description=data.description,
            secret=new_secret(),
        )
        await self._webhooks.insert(webhook)
        return webhook

    async def page(self, scope: ProjectScope, *, cursor: str | None, limit: int) -> Page[WebhookRead]:
        """Oldest first."""
        scope.grant.require(MANAGES_WEBHOOKS)
        items, next_cursor = await self._webhooks.page(
            scope.project_id, codec=self._cursors, cursor=cursor, limit=limit
        )
        return Page[WebhookRead](items=[webhook_read(w) for w in items], next_cursor=next_cursor)

    async def get(self, scope: ProjectScope, webhook_id: PydanticObjectId) -> Webhook:
        """403 below admin (whether the webhook exists or not), then 404 for another project's."""
        scope.grant.require(MANAGES_WEBHOOKS)
        webhook = await self._webhooks.by_id(webhook_id)
        if webhook is None or webhook.project_id != scope.project_id:
            raise WebhookNotFound()
        return webhook

    async def update(self, webhook: Webhook, data: WebhookUpdate, *, if_match: str | None) -> Webhook:
        fields: dict[str, Any] = data.model_dump(exclude_unset=True)
        if "url" in fields:
            fields["url"] = await self._checked(str(data.url))
        if "events" in fields:
            fields["events"] = list(dict.fromkeys(fields["events"]))
        snapshot = webhook
        for _ in range(_RETRIES):
            check_if_match(if_match, snapshot.etag)
            changes = {k: v for k, v in fields.items() if getattr(snapshot, k) != v}
            if not changes:
                return snapshot
            if changes.get("active") is True:
                changes |= {"consecutive_failures": 0, "disabled_reason": None}
            changed = await self._webhooks.update_if_version(
                _id(snapshot), snapshot.version, {**changes, "updated_at": utcnow()}
            )
            if changed is not None:
                return changed
            snapshot = await self._fresh(snapshot, if_match)
        raise PreconditionFailed(headers={"ETag": snapshot.etag}, current_etag=snapshot.etag)

    async def rotate_secret(self, webhook: Webhook, *, if_match: str | None) -> Webhook:
        snapshot = webhook
        for _ in range(_RETRIES):
            check_if_match(if_match, snapshot.etag)
            changed = await self._webhooks.update_if_version(
                _id(snapshot), snapshot.version, {"secret": new_secret(), "updated_at": utcnow()}
            )
            if changed is not None:
                return changed
            snapshot = await self._fresh(snapshot, if_match)
        raise PreconditionFailed(headers={"ETag": snapshot.etag}, current_etag=snapshot.etag)

    async def delete(self, webhook: Webhook, *, if_match: str | None) -> None:
        """Its pending deliveries are dropped when their attempts come (the webhook is gone)."""
        snapshot = webhook
        for _ in range(_RETRIES):
            check_if_match(if_match, snapshot.etag)
            if await self._webhooks.delete_if_version(_id(snapshot), snapshot.version):
                return
            snapshot = await self._fresh(snapshot, if_match)
        raise PreconditionFailed(headers={"ETag": snapshot.etag}, current_etag=snapshot.etag)

    async def deliveries(self, webhook: Webhook, *, cursor: str | None, limit: int) -> Page[DeliveryRead]:
        """Newest first."""
        items, next_cursor = await self._deliveries.page(
            _id(webhook), codec=self._cursors, cursor=cursor, limit=limit
        )
        return Page[DeliveryRead](items=[delivery_read(d) for d in items], next_cursor=next_cursor)

    async def delivery(self, webhook: Webhook, delivery_id: PydanticObjectId) -> WebhookDelivery:
        delivery = await self._deliveries.by_id(delivery_id)
        if delivery is None or delivery.webhook_id != webhook.id:
            raise DeliveryNotFound()
        return delivery

    async def redeliver(self, delivery: WebhookDelivery) -> WebhookDelivery:
        return await self._outbox.redeliver(delivery)

    async def ping(self, webhook: Webhook) -> WebhookDelivery:
        return await self._outbox.ping(webhook)

    async def _checked(self, url: str) -> str:
        """The URL, if deliveries may go there now (checked again before every attempt)."""
        try:
            await resolve(
                url,
                https_only=self._settings.environment is Environment.PRODUCTION,
                allow_private=self._settings.webhook_allow_private_targets,
            )
        except Refused as exc:
            raise TargetRefused(f"The target URL is refused: {exc}.") from exc
        return url

    async def _fresh(self, snapshot: Webhook, if_match: str | None) -> Webhook:
        fresh = await self._webhooks.by_id(_id(snapshot))
        if fresh is None or fresh.project_id != snapshot.project_id:
            raise WebhookNotFound()
        if if_match is not None:
            raise PreconditionFailed(headers={"ETag": fresh.etag}, current_etag=fresh.etag)
        return fresh


def webhook_read(webhook: Webhook) -> WebhookRead:
    return WebhookRead(
        id=_id(webhook),
        project_id=webhook.project_id,
        url=webhook.url,
        events=webhook.events,
        active=webhook.active,
        description=webhook.description,
        consecutive_failures=webhook.consecutive_failures,
        disabled_reason=webhook.disabled_reason,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
    )


def webhook_with_secret(webhook: Webhook) -> WebhookWithSecret:
    return WebhookWithSecret(**webhook_read(webhook).model_dump(), secret=webhook.secret)


def delivery_read(delivery: WebhookDelivery) -> DeliveryRead:
    assert delivery.id is not None
    pending = delivery.status is DeliveryStatus.PENDING
    return DeliveryRead(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=as_utc(delivery.due_at) if pending else None,
        response_status=delivery.response_status,
        response_body=delivery.response_body,
        latency_ms=delivery.latency_ms,
        error=delivery.error,
        redelivery_of=delivery.redelivery_of,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
    )


def _id(webhook: Webhook) -> PydanticObjectId:
    assert webhook.id is not None
    return webhook.id
