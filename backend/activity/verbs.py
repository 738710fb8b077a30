from enum import StrEnum


class ActivityVerb(StrEnum):
    """What happened: the `verb` of an activity record and the `event` of a stream event."""

    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    PROJECT_ARCHIVED = "project.archived"
    PROJECT_RESTORED = "project.restored"
    MEMBER_ADDED = "member.added"
    MEMBER_UPDATED = "member.updated"
    MEMBER_REMOVED = "member.removed"
    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_DELETED = "task.deleted"
    TASK_RESTORED = "task.restored"
    COMMENT_CREATED = "comment.created"
    COMMENT_UPDATED = "comment.updated"
    COMMENT_DELETED = "comment.deleted"
    RELATION_CREATED = "relation.created"
    RELATION_DELETED = "relation.deleted"
    LABEL_CREATED = "label.created"
    LABEL_UPDATED = "label.updated"
    LABEL_DELETED = "label.deleted"
    ATTACHMENT_ADDED = "attachment.added"
    ATTACHMENT_DELETED = "attachment.deleted"
    WEBHOOK_DISABLED = "webhook.disabled"
