"""File contents in MongoDB GridFS, on either driver stack, behind one small interface.

- Motor (Beanie 1.x): `motor.motor_asyncio.AsyncIOMotorGridFSBucket`;
- PyMongo's async API (Beanie 2.x): `gridfs.AsyncGridFSBucket`;
- the in-memory MongoDB: Motor's bucket on mongomock's databases. Out of the box it refuses them
  (`TypeError: database must be an instance of Database`, measured with mongomock-motor 0.0.36 and
  Motor 3.7.1); mongomock's own `enable_gridfs_integration()` lets PyMongo's GridFS accept mongomock
  databases and collections, and then writes, ranged reads, aborts and deletes work (measured, and
  run by every attachment test in memory). Motor runs the synchronous GridFS in its thread pool;
  mongomock's store guards its collections with a lock.

A blob is written from an async iterable of byte chunks and held in memory one GridFS chunk at a
time; when the iterable raises (a limit, a malformed or cut-off body) every chunk written so far is
removed before the error goes on.
"""

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from typing import Any, Protocol, cast

from bson import ObjectId
from gridfs.errors import NoFile

from backend.core.storage.db import BEANIE_2, Database, Mongo

BUCKET = "attachments"
DEFAULT_CHUNK_BYTES = 255 * 1024  # GridFS's own default


class BlobStore(Protocol):
    """Where attachment contents live; metadata lives in the domain's own documents."""

    async def write(self, blob_id: ObjectId, filename: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the chunks under `blob_id`; the number of bytes. Removes what it wrote on any error."""
        ...

    def read(self, blob_id: ObjectId, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (exclusive) of the blob, a chunk at a time."""
        ...

    async def delete(self, blob_id: ObjectId) -> None:
        """Remove the blob and its chunks (nothing when it is gone already)."""
        ...


async def _maybe(value: Any) -> Any:
    """Motor's GridOut methods answer at once or with a coroutine depending on the method; PyMongo's
    async ones answer with a coroutine: the value either way."""
    if isinstance(value, Awaitable):
        return await value
    return value


class GridFSBlobs:
    """A GridFS bucket of the app's database, made per use (making one sends nothing)."""

    def __init__(
        self, database: Database, *, in_memory: bool, chunk_bytes: int = DEFAULT_CHUNK_BYTES
    ) -> None:
        self._bucket = _bucket(database, in_memory=in_memory)
        self._chunk_bytes = chunk_bytes

    async def write(self, blob_id: ObjectId, filename: str, chunks: AsyncIterable[bytes]) -> int:
        upload = self._bucket.open_upload_stream_with_id(
            blob_id, filename, chunk_size_bytes=self._chunk_bytes
        )
        size = 0
        try:
            async for chunk in chunks:
                # The stream keeps less than one GridFS chunk between writes of whole chunks.
                await upload.write(chunk)
                size += len(chunk)
        except BaseException:
            with contextlib.suppress(Exception):
                await upload.abort()  # removes the chunks written so far
            raise
        await upload.close()
        return size

    async def read(self, blob_id: ObjectId, start: int, end: int) -> AsyncIterator[bytes]:
        download = await self._bucket.open_download_stream(blob_id)
        try:
            await _maybe(download.seek(start))
            left = end - start
            while left > 0:
                data: bytes = await download.read(min(left, self._chunk_bytes))
                if not data:
                    return
                left -= len(data)
                yield data
        finally:
            await _maybe(download.close())

    async def delete(self, blob_id: ObjectId) -> None:
        with contextlib.suppress(NoFile):
            await self._bucket.delete(blob_id)


_MOCK_GRIDFS_ENABLED = False


def _bucket(database: Database, *, in_memory: bool) -> Any:
    if BEANIE_2:
        from gridfs import AsyncGridFSBucket

        return AsyncGridFSBucket(database, bucket_name=BUCKET)
    from motor.motor_asyncio import AsyncIOMotorGridFSBucket

    if in_memory:
        _enable_mock_gridfs()
    # Typed for Motor's database; the one `make_client` made is Motor's (or the mock's) on this stack.
    return AsyncIOMotorGridFSBucket(cast(Any, database), bucket_name=BUCKET)


def _enable_mock_gridfs() -> None:
    global _MOCK_GRIDFS_ENABLED
    if not _MOCK_GRIDFS_ENABLED:
        import mongomock.gridfs

        # Widens GridFS's isinstance checks to accept mongomock's types too (real ones still pass).
        mongomock.gridfs.enable_gridfs_integration()  # type: ignore[no-untyped-call]
        _MOCK_GRIDFS_ENABLED = True


def blob_store(mongo: Mongo, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> BlobStore:
    return GridFSBlobs(mongo.database, in_memory=mongo.in_memory, chunk_bytes=chunk_bytes)
