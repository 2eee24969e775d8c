"""How a failed gRPC call to another service becomes a control error.

Transport trouble (the service is down, slow or overloaded) is DependencyUnavailableError,
which the API answers with 503 `<service>_unavailable`; a rejected argument is
InvalidInputError (422); anything else is logged and also answered as 503, because the admin
cannot fix it by changing the request.
"""

from __future__ import annotations

import logging

import grpc

from gateway_control.errors import ControlError, DependencyUnavailableError, InvalidInputError

log = logging.getLogger(__name__)

UNAVAILABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


def rpc_error(service: str, target: str, exc: grpc.aio.AioRpcError) -> ControlError:
    """The control error for a failed call to `service` at `target`."""
    code = exc.code()
    if code in UNAVAILABLE_CODES:
        log.warning("%s unreachable at %s: %s", service, target, code.name)
        return DependencyUnavailableError(
            service, f"the {service} service is unreachable ({code.name}); retry shortly"
        )
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidInputError(exc.details() or f"the {service} service rejected the query")
    log.error("%s call failed: %s %s", service, code.name, exc.details())
    return DependencyUnavailableError(service, f"the {service} service failed ({code.name})")
