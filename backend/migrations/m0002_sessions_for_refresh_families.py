"""0002: every refresh-token family from before sessions existed becomes a session (issue 14).

Until then a family was only an id on its refresh tokens; now a `sessions` document is the one
thing authentication checks. Each family with a live refresh token gets a session (its user, the
oldest token's creation as `created_at`, the newest expiry), and its tokens move into it. Access
tokens issued before name the old family and are refused; clients refresh, which now works.
`down` moves the tokens back and removes the sessions it made.
"""

from bson import ObjectId

from backend.core.storage.db import Database, aggregate
from backend.core.time import utcnow
from backend.migrations.migration import Migration, Outcome, Progress


class SessionsForRefreshFamilies(Migration):
    version = 2
    name = "sessions_for_refresh_families"
    reversible = True

    async def up(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        tokens, sessions = database["refresh_tokens"], database["sessions"]
        outcome = Outcome()
        while True:
            # Families whose ids are not session ids (24-hex) and that still have a live token.
            families = await aggregate(
                tokens,
                [
                    # On the family index: ids that are not session ids, then the live tokens of them.
                    {"$match": {"family_id": {"$not": {"$regex": "^[0-9a-f]{24}$"}}}},
                    {"$match": {"revoked_at": None}},
                    {
                        "$group": {
                            "_id": "$family_id",
                            "user_id": {"$first": "$user_id"},
                            "created_at": {"$min": "$created_at"},
                            "expires_at": {"$max": "$expires_at"},
                        }
                    },
                    {"$limit": self.BATCH},
                ],
            )
            if not families or dry_run:
                outcome.changed += len(families)
                break
            for family in families:
                session_id = ObjectId()
                await sessions.insert_one(
                    {
                        "_id": session_id,
                        "user_id": family["user_id"],
                        "created_at": family["created_at"],
                        "last_used_at": utcnow(),
                        "expires_at": family["expires_at"],
                        "user_agent": "",
                        "ended_at": None,
                        "end_reason": None,
                        "migrated_from_family": family["_id"],
                    }
                )
                # Last: until the tokens move, a crash leaves the family to be picked up again
                # (and the unused session expires with its TTL).
                await tokens.update_many(
                    {"family_id": family["_id"]}, {"$set": {"family_id": str(session_id)}}
                )
                outcome.changed += 1
            progress(len(families))
        return outcome

    async def down(self, database: Database, *, dry_run: bool, progress: Progress) -> Outcome:
        tokens, sessions = database["refresh_tokens"], database["sessions"]
        outcome = Outcome()
        made = await sessions.find({"migrated_from_family": {"$exists": True}}).to_list(None)
        for session in made:
            outcome.changed += 1
            if not dry_run:
                await tokens.update_many(
                    {"family_id": str(session["_id"])},
                    {"$set": {"family_id": session["migrated_from_family"]}},
                )
                await sessions.delete_one({"_id": session["_id"]})
        progress(outcome.changed)
        return outcome
