"""Rules, windows and quotas of rate limits (the `limits` notation, its sliding-window-counter)."""

import math
from dataclasses import dataclass
from functools import cache

from limits import parse

from backend.core.http.errors import ProblemError


class RateLimited(ProblemError):
    status = 429
    error_code = "RATE_LIMITED"
    title = "Too many requests"
    sends_headers = ("Retry-After",)
    default_detail = "Too many requests; retry after the time in Retry-After."


@dataclass(frozen=True)
class Rule:
    limit: int
    period: int  # seconds
    text: str

    @staticmethod
    @cache
    def parse(text: str) -> "Rule":
        """`N/second|minute|hour|day` (the `limits` notation, which validates it)."""
        item = parse(text)
        return Rule(item.amount, item.get_expiry(), text)


@dataclass(frozen=True)
class Window:
    """One count against a rule: whether it fit, and the sliding window's state after it."""

    allowed: bool
    count: int  # the weighted count, this request included when allowed
    previous: int  # the previous window's count
    elapsed: float  # seconds into the current window


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_after: int  # seconds until the window frees a request

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }

    @classmethod
    def of(cls, rule: Rule, window: Window) -> "Quota":
        # The current window's requests start to weigh less when it ends; the previous window's weigh
        # one request less every period/previous seconds.
        reset = rule.period - window.elapsed
        if window.previous:
            reset = min(reset, reset % (rule.period / window.previous))
        return cls(rule.limit, max(0, rule.limit - window.count), max(1, math.ceil(reset)))


def weighted(previous: int, current: int, elapsed: float, period: int) -> int:
    return math.floor(previous * (period - elapsed) / period) + current
