from backend.core.http.errors import ProblemError


class AttachmentNotFound(ProblemError):
    status = 404
    error_code = "ATTACHMENT_NOT_FOUND"
    title = "Attachment not found"
    default_detail = "No attachment with this id exists on this task."


class NotAttachmentUploader(ProblemError):
    status = 403
    error_code = "NOT_ATTACHMENT_UPLOADER"
    title = "Not the uploader"
    default_detail = "Only the uploader or a project admin may delete an attachment."


class AttachmentTooLarge(ProblemError):
    status = 413
    error_code = "ATTACHMENT_TOO_LARGE"
    title = "Attachment too large"
    default_detail = "The file exceeds the largest size allowed per file; nothing was stored."


class QuotaExceeded(ProblemError):
    status = 413
    error_code = "QUOTA_EXCEEDED"
    title = "Project storage quota exceeded"
    default_detail = "The project's attachments would exceed its storage quota; nothing was stored."


class ContentTypeNotAllowed(ProblemError):
    status = 415
    error_code = "CONTENT_TYPE_NOT_ALLOWED"
    title = "Content type not allowed"
    default_detail = "Files of this type cannot be attached."


class ContentTypeMismatch(ProblemError):
    status = 415
    error_code = "CONTENT_TYPE_MISMATCH"
    title = "Content type does not match the file"
    default_detail = "The file's bytes are not of the content type its part claims."


class RangeNotSatisfiable(ProblemError):
    status = 416
    error_code = "RANGE_NOT_SATISFIABLE"
    title = "Range not satisfiable"
    default_detail = "The requested range starts beyond the end of the file."
    sends_headers = ("Content-Range",)
