"""The fake Bedrock runtime as a Starlette app (`create_bedrock_fake`).

`POST /model/{modelId}/converse` (JSON), `POST /model/{modelId}/converse-stream`
(`application/vnd.amazon.eventstream`) and `POST /model/{modelId}/invoke` (Titan
embeddings, Titan / Nova / Stability images: `invoke.py`). Admission verifies the SigV4
signature for real (`sigv4.py`): the key it was started with is the secret access key of
its session identity. The same server is also STS (`POST /`, `sts.py`): a base identity
signs `AssumeRole` for service `sts` and receives that session identity.
Faults, recording and chunking come from the shared machinery (`openai/faults.py`).
"""

from __future__ import annotations

from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_fakes.bedrock.converse import converse, converse_stream
from gateway_fakes.bedrock.errors import bad_json, bedrock_error, fault_error
from gateway_fakes.bedrock.invoke import invoke
from gateway_fakes.bedrock.sigv4 import Identity, verify
from gateway_fakes.bedrock.sts import (
    DEFAULT_STS_ACCESS_KEY_ID,
    DEFAULT_STS_ROLE_ARN,
    DEFAULT_STS_SECRET,
    AssumableRole,
    assume_role_handler,
    sts_dialect,
)
from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.app import request_log_endpoint
from gateway_fakes.openai.call import BodyKind, FakeContext, endpoint
from gateway_fakes.recorder import RequestLog

DEFAULT_BEDROCK_SECRET: Final = "bedrock-upstream-test-secret"
DEFAULT_BEDROCK_ACCESS_KEY_ID: Final = "ASIAFAKEBEDROCKTEST1"
DEFAULT_BEDROCK_SESSION_TOKEN: Final = "fake-bedrock-session-token"
DEFAULT_BEDROCK_REGION: Final = "us-east-1"


def _dialect(access_key_id: str, session_token: str | None, region: str) -> Dialect:
    def admit(request: Request, secret: str) -> Response | None:
        body = getattr(request.state, "raw_body", b"")
        return verify(request, body, Identity(access_key_id, secret, session_token, region))

    return Dialect(admit=admit, fault_error=fault_error, bad_json=bad_json)


def create_bedrock_fake(
    secret_access_key: str = DEFAULT_BEDROCK_SECRET,
    access_key_id: str = DEFAULT_BEDROCK_ACCESS_KEY_ID,
    session_token: str | None = DEFAULT_BEDROCK_SESSION_TOKEN,
    region: str = DEFAULT_BEDROCK_REGION,
    role_arn: str = DEFAULT_STS_ROLE_ARN,
    external_id: str | None = None,
) -> Starlette:
    """Build a fake Bedrock runtime accepting only requests SigV4-signed by this identity, and an STS
    that issues it to the base identity (`DEFAULT_STS_ACCESS_KEY_ID` / `DEFAULT_STS_SECRET`)
    assuming `role_arn`."""
    log = RequestLog()
    context = FakeContext(secret_access_key, log, _dialect(access_key_id, session_token, region))
    base = Identity(DEFAULT_STS_ACCESS_KEY_ID, DEFAULT_STS_SECRET, None, region, service="sts")
    session = Identity(access_key_id, secret_access_key, session_token, region)
    sts = FakeContext(DEFAULT_STS_SECRET, log, sts_dialect(base))
    role = AssumableRole(role_arn, external_id, session)
    routes = [
        Route("/", endpoint(sts, assume_role_handler(role), BodyKind.FORM), methods=["POST"]),
        Route("/model/{model_id}/invoke", endpoint(context, invoke, BodyKind.JSON), methods=["POST"]),
        Route("/model/{model_id}/converse", endpoint(context, converse, BodyKind.JSON), methods=["POST"]),
        Route(
            "/model/{model_id}/converse-stream",
            endpoint(context, converse_stream, BodyKind.JSON),
            methods=["POST"],
        ),
        Route("/_fake/requests", request_log_endpoint(context.log), methods=["GET", "DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.request_log = context.log
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    return bedrock_error(exc.status_code, "UnknownOperationException", f"{request.method} {request.url.path}")
