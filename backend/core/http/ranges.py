"""The one byte range of a `Range` header (RFC 9110 14.2) a download answers with 206."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


class Unsatisfiable(Exception):
    """The range starts at or beyond the end (416)."""


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The range asked for, or None for the whole file: no header, a header this server ignores
    (another unit, several ranges, a malformed one: RFC 9110 lets a server send all of it), or a
    range that covers the whole file. Raises Unsatisfiable for one that starts beyond the end."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if not first:  # a suffix: the last N bytes
        wanted = int(last)
        if wanted == 0:
            raise Unsatisfiable()
        start, end = max(size - wanted, 0), size
    else:
        start = int(first)
        if last and not last.isdigit():
            return None
        end = min(int(last) + 1, size) if last else size
        if last and int(last) < start:
            return None  # invalid: ignored
        if start >= size:
            raise Unsatisfiable()
    if start == 0 and end == size:
        return None
    return ByteRange(start, end)
