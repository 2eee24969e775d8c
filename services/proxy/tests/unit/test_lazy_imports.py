"""A worker's idle memory: libraries only some requests need are imported on first use.

tiktoken (and its ≈38 MiB cl100k table, see tokens.py), PyJWT (Vertex service accounts) and
botocore's signer and STS model (Bedrock) stay out of a worker that never needs them.
"""

from __future__ import annotations

import subprocess
import sys

LAZY = ("tiktoken", "jwt", "botocore.auth", "botocore.credentials", "botocore.serialize")


def test_importing_the_app_leaves_the_tokenizer_jwt_and_botocore_unloaded() -> None:
    code = f"import sys, gateway_proxy.app; print(*[m for m in {LAZY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == []
