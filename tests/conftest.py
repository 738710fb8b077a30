"""The fixtures come from the `backend.testing` plugin (loaded through its pytest11 entry point)."""
