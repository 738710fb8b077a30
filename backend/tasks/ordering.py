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
(ranks.compact_ranks): the unique index never refuses them halfway. Moves racing a rebalance:

- Each rewrite is conditional on the card's rank as read (not its version): a card edited meanwhile
  (a title, a status) still gets its new rank, and a card moved meanwhile is not overwritten.
- A card moved between the rebalance's read and its write holds a rank computed among the old
  ranks (its rewrite did not match): the rebalance reads the board again and puts each such card
  where its rank fell among the old ones (`_replace_moved`).
- A move written after the rebalance's write finds its card's version moved on (each rewritten
  card's version goes up), so it is redone among the new ranks. Every card but the rebalancing
  move's own is in the rewrite, so one of the two always applies.
"""

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId

from backend.core.caching.generations import Generations
from backend.core.storage.db import Update
from backend.tasks.documents import Task
from backend.tasks.errors import BoardChanged, InvalidNeighbours, NeighbourNotFound
from backend.tasks.ranks import compact_ranks, initial_rank, rank_between, ranks_between
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
        if rank is None:
            # Created by a 2.x process after migration 0003 ran (docs/operations.md): it gets the rank
            # a create gives, the integer key of its number, above every rank made before it.
            rank = await TaskRepository().rank_unranked(neighbour, initial_rank(card["number"]))
        if not isinstance(rank, str):
            raise _not_found(name)
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


def _rank_update(card_id: PydanticObjectId, old: str | None, new: str) -> Update:
    return Update({"_id": card_id, "rank": old}, {"$set": {"rank": new}, "$inc": {"version": 1}})


async def rebalance(moving: Task, generations: Generations) -> None:
    """Give every other card of the moving task's project a short rank, in the same order."""
    tasks = TaskRepository()
    cards = [card for card in await tasks.board(moving.project_id) if card["_id"] != moving.id]
    current = [card.get("rank") or "" for card in cards]
    taken = {rank for rank in current if rank} | ({moving.rank} if moving.rank else set())
    new = compact_ranks(current, taken)
    updates = [
        _rank_update(card["_id"], card.get("rank"), rank)
        for card, rank in zip(cards, new, strict=True)
        if rank != card.get("rank")
    ]
    written = [u.filter["_id"] for u in updates]
    if await tasks.rerank(updates) < len(updates):
        written += await _replace_moved(tasks, moving, cards, new)
    # Each card's answer shows its rank and ETag: all of them, and the project's lists, change.
    await generations.bump(moving.project_id, written)


async def _replace_moved(
    tasks: TaskRepository, moving: Task, cards: list[dict[str, Any]], new: list[str]
) -> list[PydanticObjectId]:
    """Cards moved while the board was rewritten (their rewrite did not match): each goes between
    the new ranks of the cards its rank fell between among the old ones, in the order they had.
    One more read of the board and one bulk write."""
    assigned = {card["_id"]: rank for card, rank in zip(cards, new, strict=True)}
    now = {card["_id"]: card.get("rank") for card in await tasks.board(moving.project_id)}
    moved = sorted(
        (rank, card_id)
        for card_id, rank in now.items()
        if card_id in assigned and isinstance(rank, str) and rank != assigned[card_id]
    )
    moved_ids = {card_id for _, card_id in moved}
    # (old rank, new rank) of the cards that stayed, in board order.
    staying = [
        (card.get("rank") or "", assigned[card["_id"]]) for card in cards if card["_id"] not in moved_ids
    ]
    old_ranks = [old for old, _ in staying]
    by_gap: dict[int, list[tuple[str, PydanticObjectId]]] = {}
    for rank, card_id in moved:
        by_gap.setdefault(bisect_left(old_ranks, rank), []).append((rank, card_id))
    updates = []
    for position, group in by_gap.items():
        lower = staying[position - 1][1] if position > 0 else None
        upper = staying[position][1] if position < len(staying) else None
        for (rank, card_id), key in zip(group, ranks_between(lower, upper, len(group)), strict=True):
            updates.append(_rank_update(card_id, rank, key))
    await tasks.rerank(updates)
    return [u.filter["_id"] for u in updates]
