#!/usr/bin/env python3
"""`project.py generate` writes the generated database code; `project.py check` fails when it is stale."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlcgen.project import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
