"""Email alerts over SMTP (aiosmtplib): one plain-text message per alert and address.

The SMTP relay is the operator's (ALERT_SMTP_*); a channel's target is the recipient address.
Connection errors, timeouts and 4xx answers are retried by the caller; 5xx answers (recipient
refused, authentication failed) and a missing relay fail at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

import aiosmtplib

from gateway_accounting.alerts.model import BudgetAlert, DeliveryFailed
from gateway_accounting.budgets.control_catalog import AlertChannel


@dataclass(frozen=True)
class SmtpOptions:
    """How to reach the SMTP relay; `host` empty means email alerts are not configured."""

    host: str
    port: int
    sender: str
    username: str
    password: str
    # "starttls" (upgrade, required), "tls" (implicit TLS, port 465) or "none" (loopback relays).
    security: str
    timeout_s: float


class EmailSender:
    """Sends alerts as email through the configured relay."""

    def __init__(self, options: SmtpOptions) -> None:
        self._options = options

    async def send(self, alert: BudgetAlert, channel: AlertChannel) -> None:
        """Send the alert to the channel's address once; raise DeliveryFailed when it was not accepted."""
        opts = self._options
        if not opts.host:
            raise DeliveryFailed("email alerts need ALERT_SMTP_HOST", permanent=True)
        message = EmailMessage()
        message["From"] = opts.sender
        message["To"] = channel.target
        message["Subject"] = (
            "[TEST] Budget alert channel check"
            if alert.test
            else f"Budget alert: {alert.threshold}% of the {alert.period} budget reached"
        )
        payload = json.dumps(alert.as_json(datetime.now(UTC)), indent=2)
        message.set_content(f"{alert.summary()}\n\n{payload}\n")
        try:
            await aiosmtplib.send(
                message,
                hostname=opts.host,
                port=opts.port,
                username=opts.username or None,
                password=opts.password or None,
                use_tls=opts.security == "tls",
                start_tls=opts.security == "starttls",
                timeout=opts.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"SMTP relay refused {channel.target}: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"SMTP relay answered {exc.code}: {exc.message}", permanent=exc.code >= 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP relay unreachable: {type(exc).__name__}: {exc}") from exc
