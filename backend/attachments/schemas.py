from beanie import PydanticObjectId
from pydantic import Field

from backend.comments.schemas import AuthorSummary
from backend.core.time import UtcDatetime
from backend.core.types import Schema


class AttachmentRead(Schema):
    id: PydanticObjectId
    project_id: PydanticObjectId
    task_id: PydanticObjectId
    filename: str = Field(
        description="As uploaded, made safe: no path, no control characters, at most 255 characters."
    )
    content_type: str = Field(
        description="Sniffed from the bytes and checked against the type the upload claimed."
    )
    size: int = Field(ge=0, description="Bytes.")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the content, hex; its download's ETag."
    )
    uploader: AuthorSummary
    created_at: UtcDatetime
