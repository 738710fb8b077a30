"""File contents in MongoDB GridFS, on either driver stack, behind one small interface.

Blobs are stored in GridFS's own format (the GridFS spec: `<bucket>.files` and `<bucket>.chunks`,
with its two indexes), so any GridFS client reads them: the driver's own bucket does (`driver_bucket`,
used by the tests to prove it), as do `mongofiles` and backups tools. But the chunks are written and
read here, a chunk at a time, rather than through the drivers' buckets, because both buckets hold
far more than a chunk per stream (measured with PyMongo 4.20, benchmarks/attachments.py):

- a bucket's upload stream (Motor's `AsyncIOMotorGridIn` wraps PyMongo's synchronous `GridIn`;
  PyMongo's `AsyncGridIn` shares its code) buffers chunks until 48 MB (`_UPLOAD_BUFFER_SIZE`, the
  largest message) and then encodes them in one `insert_many`: a 100 MB upload grew the worker's
  RSS by 142 MB, with tracemalloc showing 45 MB of buffered chunks and 45 MB of their encoding;
- a download stream reads the chunks with the server's default batches (101 documents first: 25 MB
  of 255 KiB chunks): +32 MB per download.

Here an upload holds less than one chunk, as views of the pieces received (no copy), joins them
into the chunk's one copy as it fills and inserts it; a download reads one chunk per batch. The
limit checks, hashing and quota run on the same pieces as they pass (the caller's iterable).

The drivers' buckets on each tier, measured: Motor's `AsyncIOMotorGridFSBucket` on Motor and
SecantusDB, PyMongo's `gridfs.AsyncGridFSBucket` on Beanie 2; on the in-memory MongoDB Motor's
bucket refuses mongomock-motor's database out of the box (`TypeError: database must be an instance
of Database`, mongomock-motor 0.0.36, Motor 3.7.1) and works after mongomock's own
`enable_gridfs_integration()` (writes, ranged reads, aborts, deletes). The chunk store below needs
no such patch: it is plain collection calls, which the mock serves.
"""

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Protocol, cast

from beanie import Document, PydanticObjectId
from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from backend.core.storage.db import BEANIE_2, Collection, Database, Mongo
from backend.core.time import UtcDatetime, utcnow

BUCKET = "attachments"
DEFAULT_CHUNK_BYTES = 255 * 1024  # GridFS's own default
# Chunks per read batch: one, so a download holds one chunk's reply and its decoded document.
_READ_BATCH = 1


class CorruptBlob(Exception):
    """A blob's chunks are missing or of the wrong size (written by something else, or damaged)."""


class BlobStore(Protocol):
    """Where attachment contents live; their metadata lives in the domain's own documents."""

    async def write(self, blob_id: ObjectId, filename: str, pieces: AsyncIterable[memoryview]) -> int:
        """Store the pieces (views nothing changes while this runs) under `blob_id`; the number of
        bytes. On any error (the iterable's too) removes what it wrote, then raises."""
        ...

    def read(self, blob_id: ObjectId, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (exclusive) of the blob, a chunk at a time."""
        ...

    async def delete(self, blob_id: ObjectId) -> None:
        """Remove the blob and its chunks (nothing when it is gone already)."""
        ...


class BlobFile(Document):
    """A GridFS files document, declared for its index (startup and `tasklane indexes` build it);
    read and written through `GridFSBlobs`."""

    length: int
    chunkSize: int  # GridFS's field names
    uploadDate: UtcDatetime
    filename: str
    metadata: dict[str, Any] = {}

    class Settings:
        name = f"{BUCKET}.files"
        indexes = [
            IndexModel([("filename", ASCENDING), ("uploadDate", ASCENDING)], name="filename_1_uploadDate_1")
        ]


class BlobChunk(Document):
    """A GridFS chunk, declared for the index every read of a blob's range uses."""

    files_id: PydanticObjectId
    n: int
    data: bytes

    class Settings:
        name = f"{BUCKET}.chunks"
        indexes = [
            IndexModel([("files_id", ASCENDING), ("n", ASCENDING)], name="files_id_1_n_1", unique=True)
        ]


class GridFSBlobs:
    """A GridFS bucket of the app's database, written and read a chunk at a time."""

    def __init__(self, database: Database, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        self._files: Collection = database[f"{BUCKET}.files"]
        self._chunks: Collection = database[f"{BUCKET}.chunks"]
        self._chunk_bytes = chunk_bytes

    async def write(self, blob_id: ObjectId, filename: str, pieces: AsyncIterable[memoryview]) -> int:
        size = 0
        number = 0
        # Less than a chunk, as views of the pieces: the chunk's bytes are copied once, when it is
        # full (a growing buffer held up to two chunks more, measured by benchmarks/attachments.py).
        held: list[memoryview] = []
        held_bytes = 0
        try:
            async for piece in pieces:
                size += len(piece)
                while piece:
                    part = piece[: self._chunk_bytes - held_bytes]
                    piece = piece[len(part) :]
                    held.append(part)
                    held_bytes += len(part)
                    if held_bytes == self._chunk_bytes:
                        data = b"".join(held)
                        held.clear()
                        held_bytes = 0
                        await self._insert_chunk(blob_id, number, data)
                        del data
                        number += 1
            if held:
                await self._insert_chunk(blob_id, number, b"".join(held))
            # The files document last (as GridFS does): a blob without one is an unfinished upload.
            await self._files.insert_one(
                {
                    "_id": blob_id,
                    "length": size,
                    "chunkSize": self._chunk_bytes,
                    "uploadDate": utcnow(),
                    "filename": filename,
                    "metadata": {},
                }
            )
        except BaseException:
            await self.delete(blob_id)
            raise
        return size

    async def _insert_chunk(self, blob_id: ObjectId, number: int, data: bytes) -> None:
        # Plain bytes are BSON binary (subtype 0) as `Binary` is, without copying the chunk again.
        await self._chunks.insert_one({"files_id": blob_id, "n": number, "data": data})

    async def read(self, blob_id: ObjectId, start: int, end: int) -> AsyncIterator[bytes]:
        if end <= start:
            return
        found = await self._files.find_one({"_id": blob_id})
        if found is None:
            raise CorruptBlob(f"blob {blob_id} has no files document")
        chunk_size = int(found["chunkSize"])
        first, last = start // chunk_size, (end - 1) // chunk_size
        cursor = (
            self._chunks.find({"files_id": blob_id, "n": {"$gte": first, "$lte": last}})
            .sort("n", 1)
            # The limit lets the server close the cursor with the last chunk: no getMore to learn
            # that nothing follows (a one-chunk range stays one round trip).
            .limit(last - first + 1)
            .batch_size(_READ_BATCH)
        )
        expected = first
        async for chunk in cursor:
            if chunk["n"] != expected:
                raise CorruptBlob(f"blob {blob_id}: chunk {expected} is missing")
            data = bytes(chunk["data"])
            offset = expected * chunk_size
            yield data[max(start - offset, 0) : end - offset]
            expected += 1
        if expected != last + 1:
            raise CorruptBlob(f"blob {blob_id}: chunks from {expected} are missing")

    async def delete(self, blob_id: ObjectId) -> None:
        await self._files.delete_one({"_id": blob_id})
        await self._chunks.delete_many({"files_id": blob_id})


def blob_store(mongo: Mongo, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> GridFSBlobs:
    return GridFSBlobs(mongo.database, chunk_bytes=chunk_bytes)


_MOCK_GRIDFS_ENABLED = False


def driver_bucket(mongo: Mongo) -> Any:
    """The driver's own GridFS bucket on the same files (Motor's or PyMongo's, by stack; on the
    in-memory MongoDB, Motor's after mongomock's GridFS integration): to read blobs as any GridFS
    client would."""
    if BEANIE_2:
        from gridfs import AsyncGridFSBucket

        return AsyncGridFSBucket(mongo.database, bucket_name=BUCKET)
    from motor.motor_asyncio import AsyncIOMotorGridFSBucket

    if mongo.in_memory:
        _enable_mock_gridfs()
    # Typed for Motor's database; the one `make_client` made is Motor's (or the mock's) on this stack.
    return AsyncIOMotorGridFSBucket(cast(Any, mongo.database), bucket_name=BUCKET)


def _enable_mock_gridfs() -> None:
    global _MOCK_GRIDFS_ENABLED
    if not _MOCK_GRIDFS_ENABLED:
        import mongomock.gridfs

        # Widens GridFS's isinstance checks to accept mongomock's types too (real ones still pass).
        mongomock.gridfs.enable_gridfs_integration()  # type: ignore[no-untyped-call]
        _MOCK_GRIDFS_ENABLED = True
