from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow


class Attachment(Document):
    """A file on a task: what it is here; its bytes are the GridFS blob `blob_id`."""

    project_id: PydanticObjectId
    task_id: PydanticObjectId
    uploader_id: PydanticObjectId
    filename: str  # normalised (attachments/names.py)
    content_type: str  # sniffed from the bytes and checked against the claim
    size: int
    sha256: str  # hex; the ETag of the content
    blob_id: PydanticObjectId
    created_at: UtcDatetime = Field(default_factory=utcnow)

    class Settings:
        name = "attachments"
        indexes = [
            IndexModel(
                [
                    ("project_id", ASCENDING),
                    ("task_id", ASCENDING),
                    ("created_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="project_task_oldest",
            ),
        ]


class AttachmentUsage(Document):
    """Bytes of attachments a project holds or has reserved for uploads under way; `_id` is the
    project's id. Uploads reserve with one conditional `$inc` before writing, so two racing uploads
    cannot both pass the quota."""

    bytes: int = 0

    class Settings:
        name = "attachment_usage"
