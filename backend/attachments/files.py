"""What a file is: its name made safe, and its content type decided from its bytes."""

import unicodedata
from urllib.parse import quote

import puremagic

MAX_FILENAME = 255
FALLBACK_NAME = "file"
# Enough for every signature puremagic knows at an offset that matters here, and for a fair look
# at whether a text file is text.
SNIFF_BYTES = 8192
OCTET_STREAM = "application/octet-stream"
# Types with no signature: accepted as claimed when the bytes are text.
TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/markdown", "application/json"})


def safe_filename(raw: str) -> str:
    """The name without any path (either separator), control or format characters, NFC-normalised,
    trimmed of spaces and dots at the ends (no `..`, no hidden or Windows-trailing-dot names), at
    most 255 characters keeping the extension; `file` when nothing is left."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) < 16:
            name = stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME]
    return name or FALLBACK_NAME


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 one (RFC 6266, RFC 8187)."""
    ascii_name = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def media_type(claimed: str | None) -> str | None:
    """The bare, lower-cased media type of a claim (`text/plain; charset=utf-8` -> `text/plain`)."""
    if not claimed:
        return None
    bare = claimed.split(";", 1)[0].strip().lower()
    return bare or None


def sniffed_types(head: bytes) -> list[str]:
    """Every content type whose signature the bytes carry (puremagic), best first."""
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return []
    return list(dict.fromkeys(m.mime_type for m in matches if m.mime_type))


def looks_like_text(head: bytes, *, complete: bool) -> bool:
    """UTF-8 without NULs; a character cut at the end of an incomplete head is allowed."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not complete and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def decide_content_type(claimed: str | None, head: bytes, *, complete: bool) -> str | None:
    """The file's content type from its first bytes and the claim, or None when they disagree.

    A signature the bytes carry wins: the claim must be one of the types it stands for (or be
    absent or `application/octet-stream`, which take the best match). Bytes with no known
    signature are taken as the claimed text type when they are text; nothing else is trusted.
    """
    claim = media_type(claimed)
    found = sniffed_types(head)
    if found:
        if claim is None or claim == OCTET_STREAM:
            return found[0]
        return claim if claim in found else None
    if looks_like_text(head, complete=complete):
        if claim is None or claim == OCTET_STREAM:
            return "text/plain"
        return claim if claim in TEXT_TYPES else None
    return None
