"""The in-process copy of generation-keyed values stays small and short-lived."""

from backend.core.caching.responses import RecentValues


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_value_lives_its_lifetime_only() -> None:
    clock = Clock()
    recent: RecentValues[object] = RecentValues(5.0, 1000, clock)
    recent.put("k", {"v": 1}, 10)

    clock.now = 5.0
    assert recent.get("k") == {"v": 1}
    clock.now = 5.1
    assert recent.get("k") is None


def test_the_oldest_values_go_first_past_the_byte_budget() -> None:
    recent: RecentValues[object] = RecentValues(60.0, 1600, Clock())
    for key in "abcde":
        recent.put(key, key, 100)
    recent.put("f", "f", 100)
    for key in "ghijklmnopq":
        recent.put(key, key, 100)

    assert recent.get("a") is None
    assert recent.get("b") == "b"
    assert recent.get("q") == "q"


def test_a_value_too_large_for_its_share_is_not_kept() -> None:
    recent: RecentValues[object] = RecentValues(60.0, 1600, Clock())
    recent.put("small", 1, 100)
    recent.put("large", 2, 101)

    assert (recent.get("small"), recent.get("large")) == (1, None)
