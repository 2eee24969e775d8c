"""AWS STS `AssumeRole`: base keys -> the role's temporary keys, for Bedrock.

Settings: `role_arn` (turns the exchange on), `external_id`, `role_session_name` (default
`open-model-gateway`), `role_duration_s` (900-43200, default 3600), `sts_endpoint` (default
`https://sts.{region}.amazonaws.com`, the regional endpoint AWS recommends) and `region`
(the SigV4 scope, shared with the runtime calls). The provider's `access_key_id` /
`secret_access_key` (/ `session_token`) credentials sign the call; the issued
`AccessKeyId` / `SecretAccessKey` / `SessionToken` replace them for the Bedrock requests.

The Query-protocol body is serialised, the request SigV4-signed, and the XML answer (and
`ErrorResponse`) parsed with botocore's own STS model, serializer, signer and parser, imported
on first use (like `bedrock.signing`): a proxy without an assumed role does not carry them in RSS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final, cast
from urllib.parse import urlencode

import orjson

from gateway_providers.base import ProviderConfig, ProviderConfigError, ProviderError, UpstreamRequest
from gateway_providers.bedrock.signing import (
    ACCESS_KEY_CREDENTIAL,
    SECRET_KEY_CREDENTIAL,
    SESSION_TOKEN_CREDENTIAL,
    aws_credentials,
    sign,
)
from gateway_providers.credentials.base import IssuedCredentials, TokenResponse
from gateway_providers.errors import error_from_response

if TYPE_CHECKING:
    from botocore.model import OperationModel

ROLE_ARN_SETTING: Final = "role_arn"
EXTERNAL_ID_SETTING: Final = "external_id"
SESSION_NAME_SETTING: Final = "role_session_name"
DURATION_SETTING: Final = "role_duration_s"
ENDPOINT_SETTING: Final = "sts_endpoint"
REGION_SETTING: Final = "region"
DEFAULT_SESSION_NAME: Final = "open-model-gateway"
DEFAULT_DURATION_S: Final = 3600
STS_SERVICE: Final = "sts"


@cache
def _assume_role_model() -> OperationModel:
    """botocore's STS `AssumeRole` operation model, loaded once (its JSON ships with botocore)."""
    from botocore.loaders import Loader  # lazy: see the module docstring
    from botocore.model import ServiceModel

    service = ServiceModel(Loader().load_service_model(STS_SERVICE, "service-2"), STS_SERVICE)
    return service.operation_model("AssumeRole")


@dataclass(frozen=True, slots=True)
class AssumeRoleExchange:
    """`CredentialExchange` for a Bedrock provider with a `role_arn` setting."""

    # botocore refreshes assumed-role credentials 15 (advisory) / 10 (mandatory) minutes ahead;
    # 5 minutes still leaves a 900-second session 10 minutes of use.
    refresh_margin_s: float = 300.0

    def applies(self, provider: ProviderConfig) -> bool:
        """True when the provider names a role to assume."""
        return bool(provider.settings.get(ROLE_ARN_SETTING))

    def token_request(self, provider: ProviderConfig, now: float) -> UpstreamRequest:
        """The SigV4-signed `AssumeRole` POST (form-encoded Query protocol)."""
        settings = provider.settings
        region = settings.get(REGION_SETTING)
        if not region:
            raise ProviderConfigError(
                f"{provider.provider_type} deployment has no '{REGION_SETTING}' setting"
            )
        params: dict[str, object] = {
            "RoleArn": settings[ROLE_ARN_SETTING],
            "RoleSessionName": settings.get(SESSION_NAME_SETTING) or DEFAULT_SESSION_NAME,
            "DurationSeconds": _duration(settings),
        }
        if settings.get(EXTERNAL_ID_SETTING):
            params["ExternalId"] = settings[EXTERNAL_ID_SETTING]
        from botocore.serialize import QuerySerializer  # lazy: see the module docstring

        serialized = QuerySerializer().serialize_to_request(params, _assume_role_model())
        body = urlencode(cast(Mapping[str, str], serialized["body"])).encode()
        url = settings.get(ENDPOINT_SETTING) or f"https://sts.{region}.amazonaws.com/"
        headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        credentials = aws_credentials(provider.credentials)
        signed = sign("POST", url, headers, body, credentials, region, service=STS_SERVICE)
        return UpstreamRequest("POST", url, signed, body)

    def parse_token_response(self, response: TokenResponse, now: float) -> IssuedCredentials:
        """The role's temporary keys; an STS error becomes a `ProviderError`.

        A 4xx other than throttling (access denied, a bad role ARN or external id) is the
        gateway's configuration failing: it is reported as a credential failure (502,
        kind `authentication`, message hidden since it names accounts and roles).
        """
        output_shape = _assume_role_model().output_shape
        if output_shape is None:  # botocore's STS model always defines it
            raise RuntimeError("botocore's STS model has no AssumeRole output shape")
        from botocore.parsers import QueryParser  # lazy: see the module docstring

        # botocore's parser reads an `ErrorResponse` (status >= 301) whatever the shape given.
        parsed = QueryParser().parse(
            {"status_code": response.status, "headers": dict(response.headers), "body": response.body},
            output_shape,
        )
        if response.status >= 300:
            raw_error = parsed.get("Error")
            error = raw_error if isinstance(raw_error, Mapping) else {}
            raise _sts_error(response, str(error.get("Code") or ""), str(error.get("Message") or ""))
        issued = parsed.get("Credentials")
        if not isinstance(issued, Mapping):
            raise ProviderError(502, "STS answered AssumeRole without credentials.", "upstream_error")
        return IssuedCredentials(
            {
                ACCESS_KEY_CREDENTIAL: str(issued["AccessKeyId"]),
                SECRET_KEY_CREDENTIAL: str(issued["SecretAccessKey"]),
                SESSION_TOKEN_CREDENTIAL: str(issued["SessionToken"]),
            },
            issued["Expiration"].timestamp(),
        )


def _duration(settings: Mapping[str, str]) -> int:
    raw = settings.get(DURATION_SETTING)
    try:
        duration = int(raw) if raw else DEFAULT_DURATION_S
    except ValueError:
        raise ProviderConfigError(f"'{DURATION_SETTING}' must be a whole number of seconds") from None
    if not 900 <= duration <= 43200:
        raise ProviderConfigError(f"'{DURATION_SETTING}' must be between 900 and 43200 seconds")
    return duration


def _sts_error(response: TokenResponse, code: str, message: str) -> ProviderError:
    status = response.status
    treated_as = 403 if 400 <= status < 500 and code != "Throttling" else status
    if code == "Throttling":
        treated_as = 429
    body = orjson.dumps({"error": {"message": message or None, "type": None, "code": code or None}})
    return error_from_response(treated_as, response.headers, body)
