from backend.core.http.errors import ProblemError


class CommentNotFound(ProblemError):
    status = 404
    error_code = "COMMENT_NOT_FOUND"
    title = "Comment not found"
    default_detail = "No comment with this id exists on this task."


class NotCommentAuthor(ProblemError):
    status = 403
    error_code = "NOT_COMMENT_AUTHOR"
    title = "Not the author"
    default_detail = "Only the author may edit a comment; the author or a project admin may delete it."
