#!/usr/bin/env python3
"""Ops entry point for indexes: the same as `tasklane indexes ...`.

    python scripts/setup_indexes.py check
    python scripts/setup_indexes.py apply [--dry-run] [--drop-extra]

Exit codes: 0 in sync, 1 drift remains, 2 connection or configuration error.
"""

import sys

from backend.cli import app

if __name__ == "__main__":
    app(["indexes", *sys.argv[1:]])
