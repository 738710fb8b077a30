"""A file from a `multipart/form-data` body, read as it arrives.

Starlette's `request.form()` spools every file to a temporary file before the endpoint runs: the
whole upload is received (and written to local disk) before any limit, type or access rule can
refuse it. Here python-multipart's push parser (`MultipartParser`, already installed: Starlette
uses it) is fed the body chunk by chunk as the server receives it, and the file part's bytes go on
to the caller at once, as views of the received pieces (a copy of each was a quarter of an upload's
memory). Memory is bounded by one received piece plus what the caller keeps; nothing touches the
local disk. (`streaming-form-data` would do the same as a compiled extension and a new dependency,
for speed this path does not need: GridFS writes dominate.)
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from backend.core.http.errors import ProblemError, UnsupportedMediaType

FILE_FIELD = "file"
# What may follow the file part (the closing boundary, a stray small field) before it is refused.
_TRAILER_LIMIT = 64 * 1024


class MalformedUpload(ProblemError):
    status = 422
    error_code = "MALFORMED_UPLOAD"
    title = "Malformed upload"
    default_detail = (
        "The body is not a complete multipart/form-data body with a `file` part "
        "(cut off, a wrong boundary, or no `file` part)."
    )


@dataclass(frozen=True)
class _PartStart:
    headers: dict[str, str]


class _PartEnd:
    pass


class _BodyEnd:
    pass


_Event = _PartStart | memoryview | _PartEnd | _BodyEnd


@dataclass
class IncomingFile:
    """The `file` part of an upload: its claimed name and type, and its bytes as they arrive (views
    of the received pieces, which nothing changes afterwards). Iterating `chunks` raises
    `MalformedUpload` when the body ends before the part does."""

    filename: str
    content_type: str | None
    chunks: AsyncIterator[memoryview]


def boundary_of(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data":
        raise UnsupportedMediaType("Send the file as multipart/form-data, in a part named `file`.")
    if not boundary:
        raise MalformedUpload("The multipart/form-data Content-Type has no boundary.")
    return boundary


async def _events(body: AsyncIterator[bytes], boundary: bytes) -> AsyncIterator[_Event]:
    pending: list[_Event] = []
    headers: dict[str, str] = {}
    field = bytearray()
    value = bytearray()

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        headers[field.decode("latin-1").lower()] = value.decode("latin-1")
        field.clear()
        value.clear()

    def on_headers_finished() -> None:
        pending.append(_PartStart(dict(headers)))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        # `data` is the piece received (or the parser's constant boundary bytes): immutable.
        pending.append(memoryview(data)[start:end])

    def on_part_end() -> None:
        pending.append(_PartEnd())

    def on_end() -> None:
        pending.append(_BodyEnd())

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        async for received in body:
            if received:
                parser.write(received)
            for event in pending:
                yield event
            pending.clear()
        parser.finalize()
    except MultipartParseError as exc:
        raise MalformedUpload() from exc
    except ClientDisconnect as exc:
        # Nobody will read the answer; the error still removes what was stored (the caller's job).
        raise MalformedUpload("The client went away before the body ended.") from exc
    for event in pending:
        yield event


async def incoming_file(body: AsyncIterator[bytes], content_type: str | None) -> IncomingFile:
    """The first part named `file`, once its headers arrived (its bytes follow through `chunks`)."""
    events = _events(body, boundary_of(content_type))
    async for event in events:
        if isinstance(event, _PartStart):
            _, options = parse_options_header(event.headers.get("content-disposition", ""))
            if options.get(b"name") == FILE_FIELD.encode():
                filename = options.get(b"filename", b"").decode("utf-8", "replace")
                claimed = event.headers.get("content-type")
                return IncomingFile(filename, claimed.strip() if claimed else None, _file_bytes(events))
    raise MalformedUpload("The body has no `file` part.")


async def _file_bytes(events: AsyncIterator[_Event]) -> AsyncIterator[memoryview]:
    async for event in events:
        if isinstance(event, memoryview):
            yield event
        elif isinstance(event, _PartEnd):
            break
        else:
            raise MalformedUpload()
    else:
        raise MalformedUpload("The body ended inside the file.")
    # The part ended at its boundary: the body must end properly too, or the upload was cut off.
    trailing = 0
    async for event in events:
        if isinstance(event, _BodyEnd):
            return
        if isinstance(event, memoryview):
            trailing += len(event)
            if trailing > _TRAILER_LIMIT:
                raise MalformedUpload("Only one file may be sent per upload.")
    raise MalformedUpload("The body ended before its closing boundary.")
