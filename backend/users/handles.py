"""Handles, `@ada`: a person's unique, case-insensitive name for mentions. Made and read here only.

A handle is 2 to 30 of `a-z 0-9 _ -`, stored lower-cased (so uniqueness is case-insensitive without
collation, as for emails). One chosen at register is taken as is; otherwise one is derived from the
email's local part and made unique with a number (`ada`, `ada2`, `ada3`, ...), choosing among the
taken ones read in one query.
"""

import re
import unicodedata
from collections.abc import Collection

MIN_LENGTH, MAX_LENGTH = 2, 30
HANDLE_PATTERN = rf"^[A-Za-z0-9_-]{{{MIN_LENGTH},{MAX_LENGTH}}}$"
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")
# In text, a mention is `@` and a handle that is not part of a longer word or an email address:
# `@ada,` and `(@ada)` mention ada; `ada@example.com` and `@ada.b` (a longer token) do not.
_MENTION = re.compile(rf"(?<![\w@.-])@([A-Za-z0-9_-]{{{MIN_LENGTH},{MAX_LENGTH}}})(?![\w@-]|\.\w)")
MAX_MENTIONS = 50  # handles resolved per text; more are left as text


def normalize_handle(handle: str) -> str:
    return handle.strip().lower()


def handle_base(email: str) -> str:
    """The handle an email suggests: its local part, accents dropped, other characters as `_`."""
    local = unicodedata.normalize("NFKD", email.partition("@")[0])
    ascii_only = "".join(c for c in local if not unicodedata.combining(c)).lower()
    base = _NOT_ALLOWED.sub("_", ascii_only).strip("_-")
    base = base[:MAX_LENGTH]
    return base if len(base) >= MIN_LENGTH else (base + "user")[: max(MIN_LENGTH, len(base) + 4)]


def first_free(base: str, taken: Collection[str]) -> str:
    """`base`, or `base` with the smallest number from 2 that makes it free (cut to fit 30)."""
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = str(number)
        candidate = base[: MAX_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def mentioned_handles(text: str) -> list[str]:
    """The handles `@mentioned` in a text, lower-cased, each once, in the order written."""
    found = dict.fromkeys(normalize_handle(m.group(1)) for m in _MENTION.finditer(text))
    return list(found)[:MAX_MENTIONS]
