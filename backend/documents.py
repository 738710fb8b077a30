"""Every Beanie document of the app: startup, the index script, health checks and tests pass this one
list (here, not in core, so that core imports no domain)."""

from beanie import Document

from backend.activity.documents import ActivityRecord
from backend.attachments.documents import Attachment, AttachmentUsage
from backend.auth.documents import PersonalAccessToken, RefreshToken, Session
from backend.comments.documents import Comment
from backend.core.storage.gridfs import BlobChunk, BlobFile
from backend.labels.documents import Label
from backend.notifications.documents import DueReminder, Notification, TaskWatcher
from backend.projects.documents import Project
from backend.relations.documents import TaskRelation
from backend.tasks.documents import Task
from backend.users.documents import User
from backend.webhooks.documents import RelayCheckpoint, Webhook, WebhookDelivery

DOCUMENT_MODELS: list[type[Document]] = [
    User,
    RefreshToken,
    Session,
    PersonalAccessToken,
    Project,
    Task,
    Comment,
    TaskRelation,
    ActivityRecord,
    Label,
    TaskWatcher,
    Notification,
    DueReminder,
    Attachment,
    AttachmentUsage,
    BlobFile,
    BlobChunk,
    Webhook,
    WebhookDelivery,
    RelayCheckpoint,
]
