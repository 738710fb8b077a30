"""Board ranks: strings whose byte order is the board's order, so that a card placed between two
others takes a string between theirs and no other card is renumbered.

The arithmetic is `fractional-indexing` (David Greenspan's scheme, the Python port of the npm
package of the same name, byte for byte: a browser can compute the same keys). A key is an
"integer" part (a head letter saying how many base-62 digits follow) and an optional fraction.

Two rules keep creation free of any extra read and new tasks last:
- A new task's rank is the integer key of its number (`initial_rank`), which the create allocates
  anyway. Numbers only grow, so it is above every rank a create made before.
- A move never produces a key at or above the next integer key after its lower neighbour when it
  has no upper one (`rank_between`): so every rank stays below the integer key of the project's
  next number, and that number's task, when created, goes last.
"""

import random
from itertools import chain

import fractional_indexing as fi  # type: ignore[import-untyped]  # no py.typed marker

BASE_62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Past this length a project's ranks are rewritten short (ordering.rebalance). Keys grow by about a
# character every six moves into the same gap; 64 leaves hundreds of such moves before it.
MAX_RANK_LENGTH = 64
# A retried placement picks a random key this many halvings deep in its gap: 1,024 distinct keys,
# so that fifty moves racing into one gap rarely collide twice (ordering.py), at about two
# characters more than the midpoint.
JITTER_DEPTH = 10
_random = random.SystemRandom()


def initial_rank(number: int) -> str:
    """The integer key of a task number: `a1` for 1, `az` for 61, `b00` for 62, ..., in rank order."""
    if number < 0:
        raise ValueError("task numbers are positive")
    width, offset = 1, 0
    while number - offset >= 62**width:
        offset += 62**width
        width += 1
    value, digits = number - offset, []
    for _ in range(width):
        value, digit = divmod(value, 62)
        digits.append(BASE_62[digit])
    return chr(ord("a") + width - 1) + "".join(reversed(digits))


def rank_between(lower: str | None, upper: str | None, *, jitter: bool = False) -> str:
    """A key strictly between two ranks (None: no card on that side).

    With no upper neighbour the key stays below the next integer key after `lower` (see the module
    docstring). `jitter` picks a random key in the gap instead of its midpoint: for a retry after
    another move took the midpoint first.
    """
    if lower is not None and upper is None:
        following = fi.increment_integer(fi.get_integer_part(lower), BASE_62)
        upper = None if following is None else str(following)  # None: past 26 digits, never reached
    key = str(fi.generate_key_between(lower, upper))
    if jitter:
        for _ in range(JITTER_DEPTH):
            if _random.random() < 0.5:
                lower = key
            else:
                upper = key
            key = str(fi.generate_key_between(lower, upper))
    return key


def ranks_between(lower: str | None, upper: str | None, count: int) -> list[str]:
    """`count` keys in order strictly between two ranks (None: no card on that side), with the same
    rule as `rank_between` for the bottom of the board."""
    if lower is not None and upper is None:
        following = fi.increment_integer(fi.get_integer_part(lower), BASE_62)
        upper = None if following is None else str(following)
    return [str(key) for key in fi.generate_n_keys_between(lower, upper, count)]


def compact_ranks(current: list[str], taken: set[str]) -> list[str]:
    """Short keys for cards now ranked `current` (in order), none of them a rank another card holds
    (`taken`), so that writing them one by one never meets a rank still in use: the i-th is the
    integer key of i (below every new task's), or that key with a fraction when another card holds
    it. A card that already holds its key keeps it (and needs no write)."""
    ranks = []
    for position, own in enumerate(current, start=1):
        whole = initial_rank(position)
        one_digit = (whole + d for d in BASE_62[1:])
        two_digits = (whole + d + e for d in BASE_62 for e in BASE_62[1:])  # lazily: rarely reached
        candidates = chain((whole,), one_digit, two_digits)
        ranks.append(next(k for k in candidates if k == own or k not in taken))
    return ranks
