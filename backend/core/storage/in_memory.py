"""The in-memory stores (mongomock-motor, fakeredis) come with the `memory` extra, never with the
production image: they are imported only when a store's URL is unset."""

import importlib
from types import ModuleType


def in_memory_package(module: str, setting: str) -> ModuleType:
    """A package of the `memory` extra, or a one-line reason why this install cannot run in memory."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"{setting} is not set and the in-memory stores are not installed "
            "(pip install 'tasklane[memory]'); set it, or install them"
        ) from exc
