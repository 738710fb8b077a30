"""The board: where a moved card's rank goes, and rebalancing when ranks grow long.

A move writes one document, the moved task, in the normal case: its new rank is a string between
its neighbours' (tasks/ranks.py). Concurrency, decided here:

- A unique index on (project_id, rank) (tasks/documents.py) makes "no two cards share a rank" the
  database's guarantee, whatever the timing. Chosen over a random suffix alone (a guarantee only
  in probability, and longer ranks on every move) and over versioning the whole board (every move
  would conflict with every other one in the project).
- Two moves into the same gap compute the same midpoint; the unique index refuses the second, which
  then reads its gap again and takes a random key in it (`jitter`): fifty moves into one gap settle
  in a few rounds, and none is lost, as each retries until its own update is applied.
- The update names the task's version (as every task update does), so a move never overwrites a
  concurrent edit it did not see: with `If-Match` that is a 412, without it the move is redone on
  the fresh task.

Rebalancing: when a new rank would pass MAX_RANK_LENGTH, every other card of the project gets a
short rank (one read and one bulk write, whatever the size of the project), in the same order, and
the move is computed again in the roomy gaps. The new ranks are chosen so that none is a rank in use
(ranks.compact_ranks): the unique index never refuses them halfway. Each rewritten card's version
goes up, so a concurrent move of it, computed on the old ranks, is redone on the new ones.
"""

from dataclasses import dataclass

from beanie import PydanticObjectId

from backend.core.caching.generations import Generations
from backend.core.storage.db import Update
from backend.tasks.documents import Task
from backend.tasks.errors import BoardChanged, InvalidNeighbours, NeighbourNotFound
from backend.tasks.ranks import compact_ranks, rank_between
from backend.tasks.repository import TaskRepository


@dataclass(frozen=True)
class Gap:
    """The ranks a card lands between (None: the top or the bottom of the board)."""

    lower: str | None
    upper: str | None

    def holds(self, rank: str | None) -> bool:
        """Whether a card of this rank already sits in the gap (a move that changes nothing)."""
        return (
            rank is not None
            and (self.lower is None or self.lower < rank)
            and (self.upper is None or rank < self.upper)
        )

    def rank(self, *, jitter: bool) -> str:
        return rank_between(self.lower, self.upper, jitter=jitter)


def _not_found(field: str) -> NeighbourNotFound:
    message = "Not a live task of this project."
    return NeighbourNotFound(f"{field}: {message}", field_errors={field: [message]})


async def gap_for(
    task: Task, *, after_id: PydanticObjectId | None, before_id: PydanticObjectId | None
) -> Gap:
    """The gap between the card above (`after_id`) and the card below (`before_id`). When only one
    is given, the other side is the card next to it now, so that nothing else moves. At most two
    indexed reads."""
    named = (("after_id", after_id), ("before_id", before_id))
    given = {name: value for name, value in named if value is not None}
    for name, neighbour in given.items():
        if neighbour == task.id:
            message = "A task cannot land next to itself."
            raise InvalidNeighbours(message, field_errors={name: [message]})
    if after_id is not None and after_id == before_id:
        message = "The card above and the card below must be two different tasks."
        raise InvalidNeighbours(message, field_errors={"before_id": [message]})
    cards = {card["_id"]: card for card in await TaskRepository().cards(list(given.values()))}
    ranks: dict[str, str] = {}
    for name, neighbour in given.items():
        card = cards.get(neighbour)
        if card is None or card["project_id"] != task.project_id or card.get("deleted_at") is not None:
            raise _not_found(name)
        rank = card.get("rank")
        if not isinstance(rank, str):  # stored before migration 0003: `tasklane migrate up`
            raise BoardChanged("The board has no order yet: its tasks are being given ranks; retry.")
        ranks[name] = rank
    lower, upper = ranks.get("after_id"), ranks.get("before_id")
    if lower is not None and upper is not None:
        if lower >= upper:
            raise BoardChanged()
        return Gap(lower, upper)
    assert task.id is not None
    known = lower if lower is not None else upper
    assert known is not None
    other = await TaskRepository().rank_next_to(
        task.project_id, known, below=lower is not None, other_than=task.id
    )
    return Gap(lower, other) if lower is not None else Gap(other, upper)


async def rebalance(moving: Task, generations: Generations) -> None:
    """Give every other card of the moving task's project a short rank, in the same order."""
    tasks = TaskRepository()
    cards = [card for card in await tasks.board(moving.project_id) if card["_id"] != moving.id]
    current = [card.get("rank") or "" for card in cards]
    taken = {rank for rank in current if rank} | ({moving.rank} if moving.rank else set())
    updates = [
        Update(
            {"_id": card["_id"], "version": card["version"]},
            {"$set": {"rank": rank}, "$inc": {"version": 1}},
        )
        for card, rank in zip(cards, compact_ranks(current, taken), strict=True)
        if rank != card.get("rank")
    ]
    await tasks.rerank(updates)
    # Each card's answer shows its rank and ETag: all of them, and the project's lists, change.
    await generations.bump(moving.project_id, [u.filter["_id"] for u in updates])
