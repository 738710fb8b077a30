import zlib

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.time import UtcDatetime, utcnow

# The colour of a label that a task brought into the catalogue, picked by its name: the same name
# gets the same colour in every project, and neighbours in a list seldom share one.
DEFAULT_COLORS = (
    "#e5484d",
    "#f76b15",
    "#ffb224",
    "#30a46c",
    "#12a594",
    "#0090ff",
    "#6e56cf",
    "#d6409f",
    "#a18072",
    "#8b8d98",
)


def task_label(name: str) -> str:
    """A catalogue name as tasks carry it (a task's labels are stripped and lower-cased): the key
    that links the catalogue and the tasks, unique per project."""
    return name.strip().lower()


def default_color(name: str) -> str:
    return DEFAULT_COLORS[zlib.crc32(task_label(name).encode()) % len(DEFAULT_COLORS)]


class Label(Document):
    project_id: PydanticObjectId
    name: str  # as its author wrote it
    # `task_label(name)`: unique per project (case-insensitive names without collation), and the
    # sort key and prefix range of the list.
    name_normalized: str
    color: str  # "#rrggbb", lower-case
    description: str = ""
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    # Goes up by one on every change; the ETag, and the condition of every update.
    version: int = 1
    # A rename or a deletion under way: the catalogue changes first, then every task carrying the
    # old name. Until the tasks are done the label keeps the old name here (a rename) or stays as a
    # hidden tombstone (a deletion), so that a request that died half-way is finished by the next
    # one that reads the label (see LabelService.settle), and no task keeps a name the catalogue lost.
    relabel_from: str | None = None
    deleted: bool = False

    class Settings:
        name = "labels"
        indexes = [
            IndexModel(
                [("project_id", ASCENDING), ("name_normalized", ASCENDING)],
                name="project_name_unique",
                unique=True,
            ),
        ]

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'
