"""Verify an AWS SigV4 signature for real, by recomputing it with botocore from the known secret.

The fake knows one identity (access key id, secret, optional session token) and its
region. A request is refused as the real service refuses it: no Authorization is 403
`MissingAuthenticationTokenException`; an unknown key id or wrong session token is 403
`UnrecognizedClientException`; a wrong scope, a stale `X-Amz-Date` (more than 5 minutes
off) or a signature that does not match is 403 `InvalidSignatureException`.
"""

from __future__ import annotations

import hmac
import re
import time
from calendar import timegm
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.requests import Request
from starlette.responses import Response

from gateway_fakes.bedrock.errors import bedrock_error

SERVICE: Final = "bedrock"
# Renders a refusal: (status, AWS error code, message) -> the service's error response.
Refusal = Callable[[int, str, str], Response]
MAX_SKEW_S: Final = 300
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})"
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True, slots=True)
class Identity:
    """The credentials the fake accepts, and the region and service requests must be scoped to."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    region: str
    service: str = SERVICE


def verify(
    request: Request, body: bytes, identity: Identity, refuse: Refusal | None = None
) -> Response | None:
    """Return the 403 the real service would send for this request, or None when it is signed right.

    `refuse` renders the refusal in the service's error format (Bedrock's JSON by default).
    """
    render = refuse or bedrock_error
    match = _AUTH.fullmatch(request.headers.get("authorization", "").strip())
    if match is None:
        return render(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    token = request.headers.get("x-amz-security-token")
    if match["key"] != identity.access_key_id or token != identity.session_token:
        return render(
            403, "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    if match["region"] != identity.region or match["service"] != identity.service:
        scope = f"{identity.region}/{identity.service}"
        return render(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region and service ({scope}).",
        )
    timestamp = request.headers.get("x-amz-date", "")
    if not _fresh(timestamp) or timestamp[:8] != match["date"]:
        return render(
            403, "InvalidSignatureException", "Signature expired or X-Amz-Date is missing or invalid."
        )
    expected = _signature(request, body, identity, match["signed"].split(";"), timestamp)
    if not hmac.compare_digest(expected, match["signature"]):
        return render(
            403,
            "SignatureDoesNotMatch" if identity.service == "sts" else "InvalidSignatureException",
            _MISMATCH,
        )
    return None


def _signature(request: Request, body: bytes, identity: Identity, signed: list[str], timestamp: str) -> str:
    """Recompute the signature over the request as received, with only the headers it signed."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else request.url.path
    query = f"?{request.url.query}" if request.url.query else ""
    url = f"{request.url.scheme}://{request.headers.get('host', '')}{path}{query}"
    headers = {name: request.headers.get(name, "") for name in signed}
    rebuilt = AWSRequest(method=request.method, url=url, data=body, headers=headers)
    rebuilt.context["timestamp"] = timestamp
    auth = SigV4Auth(
        Credentials(identity.access_key_id, identity.secret_access_key, identity.session_token),
        identity.service,
        identity.region,
    )
    return auth.signature(auth.string_to_sign(rebuilt, auth.canonical_request(rebuilt)), rebuilt)


def _fresh(timestamp: str) -> bool:
    try:
        signed_at = timegm(time.strptime(timestamp, SIGV4_TIMESTAMP))
    except ValueError:
        return False
    return abs(time.time() - signed_at) <= MAX_SKEW_S
