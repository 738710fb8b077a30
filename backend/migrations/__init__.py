"""Document migrations: versioned, resumable changes of stored shape that ops run before the API.

`tasklane migrate status|up|down` (backend/migrations/runner.py). Each migration is a module here,
listed in order in `MIGRATIONS`; see docs/operations.md for how to write one.
"""

from backend.migrations.m0001_email_nfkc import EmailNfkc
from backend.migrations.m0002_sessions_for_refresh_families import SessionsForRefreshFamilies
from backend.migrations.m0003_task_ranks import TaskRanks
from backend.migrations.m0004_label_catalogue import LabelCatalogue
from backend.migrations.m0005_user_handles import UserHandles
from backend.migrations.m0006_task_watchers import TaskWatchers
from backend.migrations.migration import Migration

MIGRATIONS: tuple[Migration, ...] = (
    EmailNfkc(),
    SessionsForRefreshFamilies(),
    TaskRanks(),
    LabelCatalogue(),
    UserHandles(),
    TaskWatchers(),
)

__all__ = ["MIGRATIONS", "Migration"]
