"""Rank arithmetic (tasks/ranks.py) against the library's own order and invariants."""

import random

import fractional_indexing as fi  # type: ignore[import-untyped]
import pytest

from backend.tasks.ranks import BASE_62, compact_ranks, initial_rank, rank_between


def test_initial_ranks_are_the_librarys_integer_keys_in_order() -> None:
    key = "a0"
    for number in range(1, 5000):
        key = fi.generate_key_between(key, None)
        assert initial_rank(number) == key, number


@pytest.mark.parametrize("number", [0, 1, 61, 62, 3905, 3906, 10**9])
def test_initial_ranks_are_valid_and_grow_with_the_number(number: int) -> None:
    fi.validate_order_key(initial_rank(number))
    assert initial_rank(number) < initial_rank(number + 1)


def test_a_move_to_the_bottom_stays_below_the_next_new_task() -> None:
    last = initial_rank(7)
    for _ in range(200):  # dragged to the bottom again and again, no task created meanwhile
        last = rank_between(last, None)
        assert initial_rank(7) < last < initial_rank(8)


@pytest.mark.parametrize("jitter", [False, True])
def test_a_rank_between_is_strictly_between(jitter: bool) -> None:
    rng = random.Random(3)
    ranks = [initial_rank(n) for n in range(1, 6)]
    for _ in range(300):
        at = rng.randrange(len(ranks) + 1)
        lower = ranks[at - 1] if at > 0 else None
        upper = ranks[at] if at < len(ranks) else None
        rank = rank_between(lower, upper, jitter=jitter)
        fi.validate_order_key(rank)
        assert lower is None or lower < rank
        assert upper is None or rank < upper
        ranks.insert(at, rank)
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)


def test_jittered_ranks_rarely_repeat() -> None:
    drawn = [rank_between("a1", "a2", jitter=True) for _ in range(50)]
    assert len(set(drawn)) >= 45  # 1,024 keys to draw from


def test_compact_ranks_keep_the_order_and_avoid_every_rank_in_use() -> None:
    current = ["a1", "a1V", "a2", "a3" + "V" * 40, "a4"]
    taken = {*current, "a5"}

    ranks = compact_ranks(current, taken)

    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)
    assert ranks[0] == "a1"  # already its own: no write
    assert all(r == own or r not in taken for r, own in zip(ranks, current, strict=True))
    assert max(len(r) for r in ranks) <= 3
    assert all(r[2:] == "" or r[2] in BASE_62[1:] for r in ranks)
