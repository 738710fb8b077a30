#!/usr/bin/env python3
"""Ops entry point for indexes: the same as `tasklane indexes ...`.

    python scripts/setup_indexes.py check [--json] [--url URL] [--strict]
    python scripts/setup_indexes.py apply [--dry-run] [--drop-extra] [--json] [--url URL] [--strict]

Exit codes: 0 in sync (extra indexes pass unless --strict), 1 drift remains, 2 MongoDB cannot be
used, 64 usage.
"""

import sys

from backend.cli import main

if __name__ == "__main__":
    main(["indexes", *sys.argv[1:]])
