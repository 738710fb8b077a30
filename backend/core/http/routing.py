"""The route class every router uses: it refuses a body of the wrong media type with 415."""

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from backend.core.http.errors import UnsupportedMediaType

# Every route but health, metrics and docs lives under this; routers spell it out, so a route's
# `path` is the whole template (metrics label requests with it).
API_PREFIX = "/api/v1"
JSON = "application/json"
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class ApiRoute(APIRoute):
    """An APIRoute that checks the body's Content-Type before FastAPI parses it.

    FastAPI alone would treat a JSON body sent as text/plain as a validation error (422); a client
    that sent the wrong media type should be told so (415).
    """

    @property
    def accepted_media_types(self) -> tuple[str, ...]:
        if self.body_field is None:
            return ()
        if isinstance(self.body_field.field_info, params.Form):
            return FORM_MEDIA_TYPES
        return (JSON,)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        accepted = self.accepted_media_types
        if not accepted:
            return handler

        async def checked(request: Request) -> Response:
            if _has_body(request) and not _media_type_accepted(request.headers.get("content-type"), accepted):
                raise UnsupportedMediaType(f"Send the request body as {' or '.join(accepted)}.")
            return await handler(request)

        return checked


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length not in ("", "0"))


def _media_type_accepted(content_type: str | None, accepted: tuple[str, ...]) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    media_type = message.get_content_type()
    if media_type in accepted:
        return True
    return JSON in accepted and media_type.startswith("application/") and media_type.endswith("+json")
