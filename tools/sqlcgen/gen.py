#!/usr/bin/env python3
"""sqlc process plugin entry point (see README.md): stdlib only, so any Python >= 3.11 runs it."""

import sys
from pathlib import Path

# sqlc runs this file directly; make the sqlcgen package beside it importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlcgen.main import main

if __name__ == "__main__":
    sys.exit(main())
