from typing import Any

from backend.core.http.errors import ProblemError


class Unauthorized(ProblemError):
    """401s tell the client how to authenticate (RFC 6750)."""

    status = 401
    error_code = "NOT_AUTHENTICATED"
    title = "Authentication required"
    default_detail = "Send a bearer access token or personal access token."
    challenge = 'Bearer realm="tasklane"'
    sends_headers = ("WWW-Authenticate",)

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": self.challenge}, **kwargs)


class NotAuthenticated(Unauthorized):
    pass


class InvalidToken(Unauthorized):
    error_code = "INVALID_TOKEN"
    title = "Invalid token"
    default_detail = "The token is expired, revoked, malformed or not an access token."
    challenge = 'Bearer realm="tasklane", error="invalid_token"'


class InvalidCredentials(Unauthorized):
    error_code = "INVALID_CREDENTIALS"
    title = "Invalid credentials"
    default_detail = "The email or password is wrong."


class InvalidRefreshToken(Unauthorized):
    error_code = "INVALID_REFRESH_TOKEN"
    title = "Invalid refresh token"
    default_detail = "The refresh token is unknown, expired or revoked; log in again."


class RefreshTokenReused(Unauthorized):
    error_code = "REFRESH_TOKEN_REUSED"
    title = "Refresh token reused"
    default_detail = "This refresh token was already spent; its whole session has been revoked. Log in again."


class AccountDisabled(ProblemError):
    status = 403
    error_code = "ACCOUNT_DISABLED"
    title = "Account disabled"
    default_detail = "This account is disabled; ask an administrator."


class AdminRequired(ProblemError):
    status = 403
    error_code = "ADMIN_REQUIRED"
    title = "Admin role required"
    default_detail = "Only global admins may do this."


class TokenNotFound(ProblemError):
    status = 404
    error_code = "TOKEN_NOT_FOUND"
    title = "Token not found"
    default_detail = "You have no personal access token with this id."


class TooManyTokens(ProblemError):
    status = 409
    error_code = "TOO_MANY_TOKENS"
    title = "Too many personal access tokens"
    default_detail = "Revoke a personal access token before creating another."


class SessionNotFound(ProblemError):
    status = 404
    error_code = "SESSION_NOT_FOUND"
    title = "Session not found"
    default_detail = "You have no session with this id."
