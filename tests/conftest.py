"""The fixtures come from the `backend.testing` plugin (see pyproject's addopts)."""
