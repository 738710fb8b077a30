"""Files attached to tasks: contents in GridFS (core/storage/gridfs), metadata in `attachments`."""
