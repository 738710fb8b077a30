"""Draining: what a process does between SIGTERM and its exit.

uvicorn, on SIGTERM, stops accepting connections, lets in-flight requests finish (for at most
DRAIN_TIMEOUT_SECONDS, `tasklane serve` sets its graceful-shutdown timeout), then runs the
lifespan's shutdown. Meanwhile the app must tell the rest: readiness answers 503, a request that
still arrives on an open keep-alive connection is refused with 503 and `Connection: close`, and
event streams end with a reconnect hint (clients reconnect, through the load balancer, elsewhere).
uvicorn does not tell the app when it starts, so the lifespan chains a handler to uvicorn's own.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from backend.core.http.errors import ProblemError

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ShuttingDown(ProblemError):
    status = 503
    error_code = "SHUTTING_DOWN"
    title = "Shutting down"
    default_headers = {"Retry-After": "1"}
    default_detail = "This server is shutting down; retry, and another will answer."


class Drain:
    def __init__(self) -> None:
        self._started = False

    @property
    def started(self) -> bool:
        return self._started

    def begin(self) -> None:
        self._started = True

    @contextmanager
    def on_signals(self) -> Iterator[None]:
        """While inside, SIGTERM and SIGINT begin the drain, then go on to the handler before ours
        (uvicorn's, which starts its graceful shutdown). Only the main thread can install them."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}

        def handle(sig: int, frame: FrameType | None) -> None:
            self.begin()
            chained = previous[signal.Signals(sig)]
            if callable(chained):
                chained(sig, frame)
            else:  # no server of ours: what the signal would have done
                signal.signal(sig, chained)
                signal.raise_signal(sig)

        for sig in _SIGNALS:
            signal.signal(sig, handle)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
