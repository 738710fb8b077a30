"""Mentions, `@ada`: the handles written in a text, resolved at write time to members of the project.

A handle that names no account, or an account that is not a member of the project, stays text and
mentions nobody. All the handles of the texts of one write are resolved in one query, whatever their
number. What is stored is the mentioned users' ids (`mentioned_ids` on tasks and comments), in the
order written; answers show each with their current handle and name (`MentionRead`).

For notifications: a service's write returns the task or comment with its `mentioned_ids`;
`newly_mentioned` tells, for an edit, who was mentioned by it and not before.
"""

from collections.abc import Collection, Sequence

from beanie import PydanticObjectId

from backend.users.handles import mentioned_handles
from backend.users.schemas import MentionRead
from backend.users.service import NOBODY, Person, UserService


class Mentions:
    """Resolves the mentions of texts written in one project, for its members."""

    def __init__(self, users: UserService) -> None:
        self._users = users

    async def of(self, text: str, member_ids: Collection[PydanticObjectId]) -> list[PydanticObjectId]:
        (found,) = await self.of_each([text], member_ids)
        return found

    async def of_each(
        self, texts: Sequence[str], member_ids: Collection[PydanticObjectId]
    ) -> list[list[PydanticObjectId]]:
        """The members each text mentions, in the order written; one query for all the texts (none
        when no text has an `@handle`)."""
        written = [mentioned_handles(text) for text in texts]
        wanted = sorted({handle for handles in written for handle in handles})
        found = await self._users.by_handles(wanted)
        members = {
            user.handle: user.id
            for user in found
            if user.id is not None and user.id in member_ids and user.handle
        }
        return [[members[h] for h in handles if h in members] for handles in written]


def newly_mentioned(
    before: Sequence[PydanticObjectId], after: Sequence[PydanticObjectId]
) -> list[PydanticObjectId]:
    """Who an edit mentions that the text did not mention before (whom to notify)."""
    known = set(before)
    return [user_id for user_id in after if user_id not in known]


def mentions_read(
    mentioned: Sequence[PydanticObjectId], people: dict[PydanticObjectId, Person]
) -> list[MentionRead]:
    """The mentions as answers show them: with the handle and name each person has now."""
    return [
        MentionRead.model_construct(
            user_id=user_id,
            handle=people.get(user_id, NOBODY).handle,
            display_name=people.get(user_id, NOBODY).display_name,
        )
        for user_id in mentioned
    ]
