"""Every Redis key and channel of the application, built here and nowhere else.

One module, so that two features cannot collide on a name, ops can read every namespace in one
place, and the mirror (mirror.py) follows exactly the prefixes these functions build.

| key                              | what                                              | lifetime          |
|----------------------------------|---------------------------------------------------|-------------------|
| `tasklane:resp:<sha256>`         | a cached response (caching/responses.py)          | CACHE_TTL_SECONDS |
| `tasklane:gen:data:<project>`    | a project's data generation (caching/generations) | none (a counter)  |
| `tasklane:gen:task:<task>`       | a task's own generation (its detail, its activity) | 2 x CACHE_TTL     |
| `tasklane:account:<user>`        | an account's display data, for names in answers   | 30 s              |
| `tasklane:rl:<period>:<who>:<n>` | a rate-limit window's counter (ratelimit/)        | two periods       |
| `tasklane:idem:<sha256>`         | an Idempotency-Key's outcome (idempotency.py)     | 24 h              |
| `tasklane:events:<project>`      | the pub/sub channel of a project's activity       | (a channel)       |
"""

import hashlib
from collections.abc import Iterable

PREFIX = "tasklane:"


def response(parts: Iterable[str]) -> str:
    """A cached response, under the hash of everything its answer depends on."""
    return PREFIX + "resp:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


GENERATIONS = PREFIX + "gen:"  # the prefix of every generation: each cache hit reads one


def generation(project_id: object) -> str:
    """What any change in the project ends: its lists, statistics and members."""
    return f"{GENERATIONS}data:{project_id}"


def task_generation(task_id: object) -> str:
    """What a change of one task (or of its comments) ends: the task's detail and activity."""
    return f"{GENERATIONS}task:{task_id}"


ACCOUNTS = PREFIX + "account:"


def account(user_id: object) -> str:
    """Display data of an account, for names in answers; never an access decision."""
    return f"{ACCOUNTS}{user_id}"


# What each process follows in memory (caching/mirror.py): every cache hit reads a generation, and
# answers with people in them read their names.
MIRRORED = (GENERATIONS, ACCOUNTS)


def rate_limit_bucket(period: int, identity: Iterable[str]) -> str:
    """A bucket of a rate limit; its windows are this plus `:<window number>` (built by the script)."""
    return f"{PREFIX}rl:{period}:{':'.join(identity)}"


def idempotency(scope: str, key: str) -> str:
    return PREFIX + "idem:" + hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()


def events(project_id: object) -> str:
    """The pub/sub channel carrying a project's activity to live streams."""
    return f"{PREFIX}events:{project_id}"


def user_events(user_id: object) -> str:
    """The pub/sub channel carrying one person's notifications (and read marks) to their streams."""
    return f"{PREFIX}user-events:{user_id}"
