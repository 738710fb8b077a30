"""Task keys, `WEB-42`: a project's key, a hyphen, the task's number. Read here and nowhere else, for
the lookup by key and for searches that name tasks by key (a project's list; any later list across
projects resolves each prefix to a project the caller may see)."""

import re
from dataclasses import dataclass

# A project key (projects/schemas.py ProjectKey: 2 to 10 letters and digits, a letter first) and a
# number without leading zeros.
_KEY = r"([A-Za-z][A-Za-z0-9]{1,9})-([1-9][0-9]{0,9})"
_WHOLE = re.compile(rf"^{_KEY}$")
# Inside a query a key stands alone: `WEB-42` in "see WEB-42, then", not in "xWEB-42" or "WEB-42-b".
_IN_TEXT = re.compile(rf"(?<![\w-]){_KEY}(?![\w-])")


@dataclass(frozen=True)
class TaskKey:
    project_key: str  # upper-cased, as projects store it
    number: int

    def __str__(self) -> str:
        return f"{self.project_key}-{self.number}"


def _key(match: re.Match[str]) -> TaskKey:
    return TaskKey(match.group(1).upper(), int(match.group(2)))


def parse_task_key(text: str) -> TaskKey | None:
    """`text` as one task key, any case; None if it is not one."""
    match = _WHOLE.fullmatch(text)
    return None if match is None else _key(match)


def keys_in(text: str) -> list[TaskKey]:
    """The task keys written in a search query, any case, each once, in the order written."""
    return list(dict.fromkeys(_key(match) for match in _IN_TEXT.finditer(text)))


def without_keys(text: str, keys: set[TaskKey]) -> str:
    """The query with these keys taken out (the rest is searched as words)."""
    return _IN_TEXT.sub(lambda match: " " if _key(match) in keys else match.group(0), text)
