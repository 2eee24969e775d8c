"""A fake AWS STS `AssumeRole` (Query API: form-encoded POST, XML answers), SigV4 verified for real.

From the STS API reference: `POST /` with `Action=AssumeRole&Version=2011-06-15&RoleArn=...
&RoleSessionName=...[&DurationSeconds=900..43200][&ExternalId=...]`, signed for service `sts`
by a long-term identity (the fake's *base* keys). It answers `AssumeRoleResponse` XML whose
`Credentials` are the fake Bedrock runtime's session identity, expiring `DurationSeconds`
(default 3600) from now. Errors are `ErrorResponse` XML (`<Error><Type>Sender</Type><Code>`...).
Only the role it was started with can be assumed (else 403 `AccessDenied`), and when it was
given an external id, only with that id.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from gateway_fakes.bedrock.sigv4 import Identity, verify
from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.call import FakeCall, Handler

NAMESPACE: Final = "https://sts.amazonaws.com/doc/2011-06-15/"
API_VERSION: Final = "2011-06-15"
DEFAULT_STS_ROLE_ARN: Final = "arn:aws:iam::123456789012:role/gateway-bedrock"
DEFAULT_STS_ACCESS_KEY_ID: Final = "AKIAFAKESTSBASEUSER1"
DEFAULT_STS_SECRET: Final = "sts-base-user-test-secret"
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


@dataclass(frozen=True, slots=True)
class AssumableRole:
    """The one role the fake STS lets its base identity assume, and what it hands out."""

    role_arn: str
    external_id: str | None
    session: Identity  # the temporary credentials issued (the Bedrock fake's session identity)


def sts_error(status: int, code: str, message: str) -> Response:
    """STS's `ErrorResponse` XML."""
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return Response(body, status, media_type="text/xml")


def sts_dialect(base: Identity) -> Dialect:
    """Admission by the base identity's SigV4 signature (service `sts`), errors as STS XML."""

    def admit(request: Request, _secret: str) -> Response | None:
        return verify(request, getattr(request.state, "raw_body", b""), base, sts_error)

    def fault_error(status: int, _retry_after: str) -> Response:
        code = {400: "ValidationError", 403: "AccessDenied", 429: "Throttling"}.get(status, "InternalFailure")
        return sts_error(status, code, f"fake upstream fault (HTTP {status})")

    return Dialect(
        admit=admit,
        fault_error=fault_error,
        bad_json=lambda: sts_error(400, "MalformedQueryString", "The query string is malformed."),
    )


def assume_role_handler(role: AssumableRole) -> Handler:
    """The `POST /` handler: validate the AssumeRole form and issue the session credentials."""

    async def assume_role(call: FakeCall) -> Response:
        form = {name: value for name, value in call.body.items() if isinstance(value, str)}
        if form.get("Action") != "AssumeRole" or form.get("Version") != API_VERSION:
            action = form.get("Action", "")
            return sts_error(
                400,
                "InvalidAction",
                f"Could not find operation {action} for version {form.get('Version', '')}",
            )
        session_name = form.get("RoleSessionName", "")
        if not _SESSION_NAME.fullmatch(session_name):
            return sts_error(
                400,
                "ValidationError",
                "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
            )
        try:
            duration = int(form.get("DurationSeconds", "3600"))
        except ValueError:
            duration = -1
        if not 900 <= duration <= 43200:
            return sts_error(400, "ValidationError", "The requested DurationSeconds is out of range.")
        if form.get("RoleArn") != role.role_arn or form.get("ExternalId") != role.external_id:
            return sts_error(
                403,
                "AccessDenied",
                f"User: arn:aws:iam::123456789012:user/gateway is not authorized to perform: "
                f"sts:AssumeRole on resource: {form.get('RoleArn', '')}",
            )
        expiration = (datetime.now(UTC) + timedelta(seconds=duration)).strftime("%Y-%m-%dT%H:%M:%SZ")
        session = role.session
        role_name = role.role_arn.rsplit("/", 1)[-1]
        account = role.role_arn.split(":")[4]
        body = (
            f'<AssumeRoleResponse xmlns="{NAMESPACE}"><AssumeRoleResult>'
            f"<AssumedRoleUser><Arn>arn:aws:sts::{account}:assumed-role/{escape(role_name)}/"
            f"{escape(session_name)}</Arn><AssumedRoleId>AROAFAKEROLEID:{escape(session_name)}"
            f"</AssumedRoleId></AssumedRoleUser><Credentials>"
            f"<AccessKeyId>{escape(session.access_key_id)}</AccessKeyId>"
            f"<SecretAccessKey>{escape(session.secret_access_key)}</SecretAccessKey>"
            f"<SessionToken>{escape(session.session_token or '')}</SessionToken>"
            f"<Expiration>{expiration}</Expiration></Credentials>"
            f"<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</AssumeRoleResponse>"
        )
        return Response(body, media_type="text/xml")

    return assume_role
