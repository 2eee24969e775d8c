"""Short-lived provider credentials: AWS STS AssumeRole and Google service-account OAuth tokens."""

from gateway_providers.credentials.aws_sts import AssumeRoleExchange
from gateway_providers.credentials.base import (
    CredentialExchange,
    IssuedCredentials,
    Send,
    TokenResponse,
)
from gateway_providers.credentials.google_oauth import ServiceAccountExchange
from gateway_providers.credentials.resolver import CredentialResolver, exchange_for

__all__ = [
    "AssumeRoleExchange",
    "CredentialExchange",
    "CredentialResolver",
    "IssuedCredentials",
    "Send",
    "ServiceAccountExchange",
    "TokenResponse",
    "exchange_for",
]
