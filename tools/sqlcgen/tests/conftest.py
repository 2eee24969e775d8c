"""Make the plugin package (tools/sqlcgen/sqlcgen, not an installed distribution) importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
