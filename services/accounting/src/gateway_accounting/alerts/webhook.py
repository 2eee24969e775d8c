"""Webhook alerts: a signed JSON POST, through the SSRF guard, never following redirects.

Signature (verify it on the receiving side, and refuse stale timestamps to stop replays):

    X-Gateway-Timestamp: <unix seconds>
    X-Gateway-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
    X-Gateway-Delivery:  <delivery id>   (the same on a resend: receivers can deduplicate)

The secret is the channel's `settings.secret` (control.alert_channels), else
ALERT_WEBHOOK_SECRET. A 2xx answer is success; 408, 429, 5xx and network errors are retried by
the caller; a redirect (not followed: its target would escape the guard), any other 4xx, a
refused address or a missing secret fail at once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime

import httpcore
import orjson

from gateway_accounting.alerts.model import BudgetAlert, DeliveryFailed
from gateway_accounting.alerts.ssrf import AddressRefused, GuardedBackend
from gateway_accounting.budgets.control_catalog import AlertChannel

SIGNATURE_HEADER = "X-Gateway-Signature"
TIMESTAMP_HEADER = "X-Gateway-Timestamp"
DELIVERY_HEADER = "X-Gateway-Delivery"
_RETRYABLE_STATUSES = frozenset({408, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookSender:
    """Posts alerts to webhook channels over one guarded connection pool."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_s: float,
        default_secret: str,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=GuardedBackend(allow_private=allow_private), max_connections=20, retries=0
        )
        self._timeout_s = timeout_s
        self._default_secret = default_secret
        self._clock = clock

    async def send(self, alert: BudgetAlert, channel: AlertChannel) -> None:
        """POST the alert to the channel's URL once; raise DeliveryFailed when it was not accepted."""
        secret = channel.settings.get("secret") or self._default_secret
        if not isinstance(secret, str) or not secret:
            raise DeliveryFailed(
                "no signing secret (channel settings.secret or ALERT_WEBHOOK_SECRET)", permanent=True
            )
        if not channel.target.startswith(("https://", "http://")):
            raise DeliveryFailed("webhook target must be an http(s) URL", permanent=True)
        sent_at = self._clock()
        timestamp = int(sent_at.timestamp())
        body = orjson.dumps(alert.as_json(sent_at))
        headers = [
            (b"Content-Type", b"application/json"),
            (b"User-Agent", b"open-model-gateway-alerts/1"),
            (TIMESTAMP_HEADER.encode(), str(timestamp).encode()),
            (SIGNATURE_HEADER.encode(), sign(secret, timestamp, body).encode()),
            (DELIVERY_HEADER.encode(), str(alert.delivery_id).encode()),
        ]
        timeout = {
            "connect": self._timeout_s,
            "read": self._timeout_s,
            "write": self._timeout_s,
            "pool": self._timeout_s,
        }
        try:
            response = await self._pool.request(
                "POST", channel.target, headers=headers, content=body, extensions={"timeout": timeout}
            )
        except AddressRefused as exc:
            raise DeliveryFailed(str(exc), permanent=True) from exc
        except httpcore.UnsupportedProtocol as exc:
            raise DeliveryFailed(f"unsupported webhook URL: {exc}", permanent=True) from exc
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            raise DeliveryFailed(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc
        _check_status(response.status)

    async def close(self) -> None:
        """Close pooled connections."""
        await self._pool.aclose()


def _check_status(status: int) -> None:
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise DeliveryFailed(
            f"webhook answered a redirect ({status}); redirects are not followed", permanent=True
        )
    if status >= 500 or status in _RETRYABLE_STATUSES:
        raise DeliveryFailed(f"webhook answered {status}")
    raise DeliveryFailed(f"webhook refused the alert with {status}", permanent=True)
