"""The deliveries as the contract's `webhooks` (OpenAPI 3.1): what a receiver is sent, with the
Standard Webhooks headers and how to verify them. Nothing here is served: the functions only
describe requests Tasklane makes."""

from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel

from backend.core.http.openapi import operation_id
from backend.webhooks.documents import PING, WebhookEvent
from backend.webhooks.schemas import EventMessage, PingMessage

VERIFY = """
Every delivery is signed as the [Standard Webhooks](https://www.standardwebhooks.com) specification
says: `webhook-signature` holds `v1,` and the base64 HMAC-SHA256, keyed with the base64-decoded
secret (after its `whsec_` prefix), of `{webhook-id}.{webhook-timestamp}.{body}`, the body being the
exact bytes received. Refuse timestamps more than 5 minutes away from now (replays), and drop a
`webhook-id` seen before: delivery is at least once, and retries and redeliveries of one message
keep its id. Messages may arrive in any order (attempts run side by side, and a retry comes later):
the payload's `timestamp` is when the change was made, so order by it. Answer any 2xx within the
timeout (10 s by default) to acknowledge; anything else, a timeout or a redirect (never followed) is
retried with exponential backoff for up to a day. Answer fast and work later: after 50 failed
attempts in a row the webhook is disabled.

With a Standard Webhooks library (`pip install standardwebhooks`):

```python
from standardwebhooks.webhooks import Webhook

message = Webhook(secret).verify(body, headers)  # raises WebhookVerificationError
```

Or by hand:

```python
import base64, hashlib, hmac, time

def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    if abs(time.time() - int(headers["webhook-timestamp"])) > 300:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split(" "))
```
"""

WebhookId = Annotated[
    str,
    Header(
        alias="webhook-id",
        description="The message id (`msg_` + the activity record's id): the same on every retry and "
        "redelivery, for dropping repeats.",
    ),
]
WebhookTimestamp = Annotated[
    str, Header(alias="webhook-timestamp", description="When this attempt was signed, in Unix seconds.")
]
WebhookSignature = Annotated[
    str,
    Header(
        alias="webhook-signature",
        description="`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` "
        "(space-separated if ever more than one).",
    ),
]
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "Any 2xx acknowledges the delivery."},
    "default": {"description": "Anything else (and a timeout, or a redirect) is retried later."},
}

# The bodies are described by reference to their answer-side schemas (as the activity list shows the
# records): a body parameter would make FastAPI add request-side copies of every nested schema.
MESSAGE_MODELS: tuple[type[BaseModel], ...] = (EventMessage, PingMessage)


def body_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        # No OpenAPI security scheme: receivers authenticate deliveries by their signature.
        "security": [],
    }


webhooks = APIRouter(tags=["webhook-deliveries"], generate_unique_id_function=operation_id)
SHORT = "Signed with the webhook's secret (Standard Webhooks); see `webhooks-create` for how to verify."


def _describe(event: str) -> None:
    name = event.replace(".", "-")

    @webhooks.post(
        event,
        name=name,
        responses=RESPONSES,
        description=SHORT,
        status_code=200,
        openapi_extra=body_of(EventMessage),
    )
    async def event_delivered(
        webhook_id: WebhookId,
        webhook_timestamp: WebhookTimestamp,
        webhook_signature: WebhookSignature,
    ) -> None:
        """Sent to each active webhook subscribed to this event, after the change."""


for _event in WebhookEvent:
    _describe(_event.value)


@webhooks.post(
    PING,
    name="webhook-ping",
    responses=RESPONSES,
    description=SHORT,
    status_code=200,
    openapi_extra=body_of(PingMessage),
)
async def ping_delivered(
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> None:
    """Sent when an admin pings the webhook (`webhooks-ping`), to test a receiver."""
