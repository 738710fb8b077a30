"""The app's resources with the domains' own: access copies, stream tickets, the authenticator and
the index report. One object on `app.state`, built by `create_app`, its stores by the lifespan."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.access.authentication import Authenticator
from backend.access.facts import AccessFacts
from backend.access.tickets import StreamTickets
from backend.core.resources import STATE, Resources
from backend.health.service import IndexReport

if TYPE_CHECKING:  # the worker is built on these resources
    from backend.worker import Background


@dataclass
class AppResources(Resources):
    access_facts: AccessFacts = field(default_factory=AccessFacts)
    index_report: IndexReport = field(default_factory=IndexReport)
    stream_tickets: StreamTickets = field(init=False)
    authenticator: Authenticator = field(init=False)
    # The job queue and outbox (backend/worker.py), set by the lifespan.
    background: "Background | None" = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.stream_tickets = StreamTickets(self.settings)
        self.authenticator = Authenticator(self.access_facts, self.access_tokens, self.stream_tickets)


def resources_of(app: Any) -> AppResources:
    """The app's resources (`app` is the FastAPI app, `request.app`, or `scope["app"]`)."""
    found = getattr(app.state, STATE)
    assert isinstance(found, AppResources)
    return found
