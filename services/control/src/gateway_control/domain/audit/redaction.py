"""Redaction of secrets from audit before/after images.

Audit records must stay safe to show to any auditor, so values under secret-looking keys are
replaced wherever they appear, however deeply nested. Services also leave secrets out of the
images in the first place; this is the second line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"(^key$|secret|password|passwd|token|credential|api[_-]?key|private|authorization|"
    r"ciphertext|wrapped_key|nonce)",
    re.IGNORECASE,
)


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking mapping entry replaced by "[redacted]"."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if _SECRET_KEY.search(str(key)) and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
