"""Portable search: a task stores the normalised words of its text and their prefixes; a query's terms
must all be among them (`$all` on a multikey index). Works on the mock, the test server and MongoDB."""

import re
import unicodedata
from collections.abc import Iterable

MIN_PREFIX = 2
MAX_PREFIX = 12  # longer query words match whole words only
MAX_WORDS = 2000  # unique words indexed per task; a 20,000-character description stays bounded

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Case- and accent-insensitive words: NFKD, combining marks dropped, lower-cased."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(stripped.casefold())


def search_terms(title: str, description: str, labels: Iterable[str]) -> list[str]:
    unique: dict[str, None] = {}
    for text in (title, *labels, description):
        for word in words(text):
            unique.setdefault(word, None)
            if len(unique) >= MAX_WORDS:
                break
    terms: set[str] = set()
    for word in unique:
        terms.add(word)
        terms.update(word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1))
    return sorted(terms)


def query_terms(q: str) -> list[str]:
    """The terms a query must all match; one-letter words are too common to narrow anything."""
    return sorted({w for w in words(q) if len(w) >= MIN_PREFIX})
