from backend.core.http.errors import ProblemError


class EmailTaken(ProblemError):
    status = 409
    error_code = "EMAIL_TAKEN"
    title = "Email already registered"
    default_detail = "An account with this email address already exists."


class HandleTaken(ProblemError):
    status = 409
    error_code = "HANDLE_TAKEN"
    title = "Handle already taken"
    default_detail = "Another account has this handle (handles are compared in any case)."


class UserNotFound(ProblemError):
    status = 404
    error_code = "USER_NOT_FOUND"
    title = "User not found"
    default_detail = "No user with this id exists."


class LastAdmin(ProblemError):
    status = 409
    error_code = "LAST_ADMIN"
    title = "Last active admin"
    default_detail = "The last active admin can be neither demoted nor disabled."


class WrongCurrentPassword(ProblemError):
    """403: the request is well formed, but the caller failed to prove they know the password."""

    status = 403
    error_code = "WRONG_CURRENT_PASSWORD"
    title = "Current password is wrong"
    default_detail = "current_password does not match."
