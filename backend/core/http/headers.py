"""Every response header the API sends beside the body, documented once for the contract.

Operations refer to these by name (`header_refs("ETag")`); the contract builder adds the ones every
answer carries (request id, rate limits), and problem responses add those their errors send.
"""

from typing import Any


def _header(description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"description": description, "schema": schema, **({"required": True} if required else {})}


def _integer(example: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "example": example}


RESPONSE_HEADERS: dict[str, Any] = {
    "X-Request-ID": _header(
        "The request's id (yours if you sent a valid one); quote it in bug reports.",
        {"type": "string", "maxLength": 128, "example": "6f1c2b0e9a7d4f55b3e1c0a9d8e7f6a5"},
        required=True,
    ),
    # On every answer the rate limiter saw: all but failures before it (some 500s and 503s).
    "RateLimit-Limit": _header("Requests allowed per window for this caller (or IP).", _integer(1200)),
    "RateLimit-Remaining": _header("Requests left in the current window.", _integer(1187)),
    "RateLimit-Reset": _header("Seconds until the window frees a request.", _integer(42)),
    "Retry-After": _header("Seconds to wait before retrying.", _integer(5), required=True),
    "Location": _header(
        "The created resource's path.",
        {"type": "string", "example": "/api/v1/projects/6b0201e8c0ffee00000000a1"},
        required=True,
    ),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        {"type": "string", "enum": ["true"], "example": "true"},
    ),
    "ETag": _header(
        "The representation's validator: send it as If-None-Match to revalidate a read, and (for a "
        "project or task) as If-Match to make a change conditional. On 412, the current one.",
        {"type": "string", "example": '"v3"'},
        required=True,
    ),
    "X-Cache": _header(
        "`HIT` when served from the response cache.",
        {"type": "string", "enum": ["HIT", "MISS"], "example": "HIT"},
        required=True,
    ),
    "Cache-Control": _header(
        "`private` on cached reads: for this caller only, shared caches must not store it; `no-cache` "
        "on event streams.",
        {"type": "string", "enum": ["private", "no-cache"], "example": "private"},
        required=True,
    ),
    "X-Accel-Buffering": _header(
        "`no`: proxies (nginx) must pass the event stream on as it comes, unbuffered.",
        {"type": "string", "enum": ["no"], "example": "no"},
        required=True,
    ),
    "Vary": _header(
        "`Origin`: the answer's CORS headers depend on the request's Origin.",
        {"type": "string", "example": "Origin"},
    ),
    "WWW-Authenticate": _header(
        'How to authenticate (RFC 6750): `Bearer realm="tasklane"`, with `error="invalid_token"` '
        "when the token was refused.",
        {"type": "string", "example": 'Bearer realm="tasklane", error="invalid_token"'},
        required=True,
    ),
    "Content-Disposition": _header(
        "`attachment`, with the file's name made safe: `filename` (ASCII) and `filename*` (UTF-8, "
        "RFC 6266): browsers save the file, never render it in the API's origin.",
        {"type": "string", "example": "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"},
        required=True,
    ),
    "X-Content-Type-Options": _header(
        "`nosniff`: browsers use the stored (sniffed and checked) Content-Type, never guess another.",
        {"type": "string", "enum": ["nosniff"], "example": "nosniff"},
        required=True,
    ),
    "Content-Security-Policy": _header(
        "On downloads, `sandbox; default-src 'none'`: a file opened in place anyway runs no script and "
        "loads nothing.",
        {"type": "string", "enum": ["sandbox; default-src 'none'"], "example": "sandbox; default-src 'none'"},
        required=True,
    ),
    "Accept-Ranges": _header(
        "`bytes`: a `Range: bytes=start-end` request answers 206 with that part.",
        {"type": "string", "enum": ["bytes"], "example": "bytes"},
        required=True,
    ),
    "Content-Range": _header(
        "On 206 the part sent (`bytes 0-1023/4096`); on 416 the file's length (`bytes */4096`).",
        {"type": "string", "example": "bytes 0-1023/4096"},
        required=True,
    ),
}


def header_refs(*names: str) -> dict[str, Any]:
    """The `headers` of a response in the contract: references to the documented headers."""
    for name in names:
        if name not in RESPONSE_HEADERS:
            raise KeyError(f"{name} is not documented in backend/core/http/headers.py")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}
