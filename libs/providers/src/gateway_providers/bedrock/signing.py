"""SigV4 signing of Bedrock requests with botocore's signer (no hand-rolled crypto).

Credentials come from the provider's sealed credentials: `access_key_id`,
`secret_access_key` and optionally `session_token` (temporary credentials, e.g. from an
assumed role: `gateway_providers.credentials` assumes the role and refreshes them; this
module does no I/O).

botocore is imported on the first signature, not with this module: importing it costs each
proxy worker ≈4 MiB of RSS, which a gateway without Bedrock deployments need not carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from gateway_providers.base import ProviderConfigError

if TYPE_CHECKING:
    from botocore.credentials import Credentials

SERVICE: Final = "bedrock"
ACCESS_KEY_CREDENTIAL: Final = "access_key_id"
SECRET_KEY_CREDENTIAL: Final = "secret_access_key"
SESSION_TOKEN_CREDENTIAL: Final = "session_token"


def aws_credentials(credentials: Mapping[str, str]) -> Credentials:
    """botocore `Credentials` from the provider's credentials; `ProviderConfigError` if incomplete."""
    access_key = credentials.get(ACCESS_KEY_CREDENTIAL)
    secret_key = credentials.get(SECRET_KEY_CREDENTIAL)
    if not access_key or not secret_key:
        raise ProviderConfigError(
            f"bedrock deployment needs '{ACCESS_KEY_CREDENTIAL}' and '{SECRET_KEY_CREDENTIAL}' credentials"
        )
    from botocore.credentials import Credentials  # lazy: see the module docstring

    return Credentials(access_key, secret_key, credentials.get(SESSION_TOKEN_CREDENTIAL) or None)


def sign(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str = SERVICE,
) -> list[tuple[str, str]]:
    """Return `headers` plus the SigV4 ones (`Authorization`, `X-Amz-Date`, token) for this request.

    Every header given is signed, and `host` is derived from `url`, so the sender must not
    change them afterwards (unsigned headers may still be added).
    """
    from botocore.auth import SigV4Auth  # lazy: see the module docstring
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials, service, region).add_auth(request)
    return [(str(name), str(value)) for name, value in request.headers.items()]
