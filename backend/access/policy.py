"""The one access policy: may this caller see this project, and as what.

Route dependencies, the cache-hit fast path, the event streams, statistics and activity all ask
`project_access`; services receive its answer (a `ProjectGrant`) and never derive access again.
"""

from dataclasses import dataclass

from beanie import PydanticObjectId

from backend.access.caller import Caller
from backend.access.facts import MemberMap
from backend.auth.errors import AdminRequired
from backend.projects.documents import ProjectRole
from backend.projects.errors import InsufficientRole, ProjectArchived

# The scope of a global admin who is not a member: they see what a viewer sees, and change nothing.
GLOBAL_ADMIN_SCOPE = "global-admin"
# Who manages a project's webhooks (secrets, targets, deliveries), and so is told when the server
# disables one.
MANAGES_WEBHOOKS = ProjectRole.ADMIN


@dataclass(frozen=True, slots=True)
class ProjectGrant:
    """What the policy decided for one caller and project (only `project_access` makes these)."""

    project_id: PydanticObjectId
    caller: Caller
    role: ProjectRole | None  # None: a global admin who is not a member
    archived: bool

    @property
    def user_id(self) -> PydanticObjectId:
        return self.caller.user_id

    @property
    def scope(self) -> str:
        """Callers with the same scope see the same answers (cache keys are built from it)."""
        return self.role.value if self.role is not None else GLOBAL_ADMIN_SCOPE

    def require(self, minimum: ProjectRole) -> None:
        require_role(self.role, minimum)

    def require_writable(self) -> None:
        """For changing something in the project: members and above, and not archived."""
        self.require(ProjectRole.MEMBER)
        if self.archived:
            raise ProjectArchived()


def project_access(caller: Caller, members: MemberMap) -> ProjectGrant | None:
    """The caller's access to the project whose members these are; None: they may not see it (404)."""
    role = members.roles.get(caller.user_id)
    if role is None and not caller.is_global_admin:
        return None
    return ProjectGrant(members.project_id, caller, role, members.archived)


def require_role(role: ProjectRole | None, minimum: ProjectRole) -> None:
    if role is None or not role.at_least(minimum):
        raise InsufficientRole(f"This needs the {minimum.value} role or higher in the project.")


def require_global_admin(caller: Caller) -> None:
    if not caller.is_global_admin:
        raise AdminRequired()
