from backend.core.http.errors import ProblemError


class ProjectNotFound(ProblemError):
    status = 404
    error_code = "PROJECT_NOT_FOUND"
    title = "Project not found"
    default_detail = "No project with this id exists, or you are not a member of it."


class InsufficientRole(ProblemError):
    status = 403
    error_code = "INSUFFICIENT_ROLE"
    title = "Insufficient project role"
    default_detail = "Your role in this project does not allow this."


class ProjectKeyTaken(ProblemError):
    status = 409
    error_code = "PROJECT_KEY_TAKEN"
    title = "Project key taken"
    default_detail = "Another project already uses this key."


class ProjectArchived(ProblemError):
    status = 409
    error_code = "PROJECT_ARCHIVED"
    title = "Project archived"
    default_detail = "The project is archived; restore it before changing it."


class MemberNotFound(ProblemError):
    status = 404
    error_code = "MEMBER_NOT_FOUND"
    title = "Member not found"
    default_detail = "This user is not a member of the project."


class AlreadyMember(ProblemError):
    status = 409
    error_code = "ALREADY_MEMBER"
    title = "Already a member"
    default_detail = "This user is already a member of the project."


class LastOwner(ProblemError):
    status = 409
    error_code = "LAST_OWNER"
    title = "Last owner"
    default_detail = "The last owner can neither leave nor be demoted; make someone else owner first."


class UnknownUser(ProblemError):
    status = 404
    error_code = "UNKNOWN_USER"
    title = "Unknown user"
    default_detail = "No active user matches this user_id or email."


class MemberLimitReached(ProblemError):
    status = 409
    error_code = "MEMBER_LIMIT_REACHED"
    title = "Member limit reached"
    default_detail = "A project has at most 500 members."


class ConcurrentUpdate(ProblemError):
    status = 409
    error_code = "CONCURRENT_UPDATE"
    title = "Concurrent update"
    default_detail = "The project kept changing while this request was applied; retry."
