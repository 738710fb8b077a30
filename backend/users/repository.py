"""Every query of accounts: the only module of the users domain that talks to MongoDB."""

import re
from typing import Any

from beanie import PydanticObjectId
from beanie.operators import In

from backend.core.storage.db import by_id, collection
from backend.users.documents import GlobalRole, User


class UserRepository:
    async def insert(self, user: User) -> None:
        """Raises DuplicateKeyError when the (normalised) email is taken."""
        await user.insert()

    async def by_id(self, user_id: PydanticObjectId) -> User | None:
        return await by_id(User, user_id)

    async def by_ids(self, user_ids: list[PydanticObjectId]) -> list[User]:
        """In one query, whatever the number of ids."""
        return await User.find(In(User.id, user_ids)).to_list()

    async def taken_handles(self, base: str) -> set[str]:
        """The handles that begin with `base` (an anchored prefix: a range on the unique index)."""
        found = (
            await collection(User)
            .find({"handle": {"$regex": f"^{re.escape(base)}"}}, {"handle": 1})
            .to_list(None)
        )
        return {str(doc["handle"]) for doc in found}

    async def by_handles(self, handles: list[str]) -> list[User]:
        """Accounts by their (lower-cased) handles, in one query whatever their number."""
        return await User.find({"handle": {"$in": handles}}).to_list()

    async def by_email(self, email_normalized: str) -> User | None:
        return await User.find_one(User.email_normalized == email_normalized)

    async def email_page(self, query: dict[str, Any], limit: int) -> list[User]:
        """Accounts matching `query` by email order (the unique email index serves it)."""
        return await User.find(query).sort("+email_normalized").limit(limit).to_list()

    async def count(self, conditions: dict[str, Any]) -> int:
        return await User.find(conditions).count()

    async def other_active_admins(self, user_id: PydanticObjectId | None) -> int:
        return await User.find(
            {"role": GlobalRole.ADMIN.value, "disabled": False, "_id": {"$ne": user_id}}
        ).count()

    async def set(self, user: User, changes: dict[str, Any]) -> None:
        """Raises DuplicateKeyError when a changed handle is taken (a plain update: Beanie's `set`
        reports a unique index's refusal as a revision change)."""
        await collection(User).update_one({"_id": user.id}, {"$set": changes})
        for name, value in changes.items():
            setattr(user, name, value)
