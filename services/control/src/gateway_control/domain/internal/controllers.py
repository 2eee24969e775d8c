"""GET /internal/keys/{digest}: the proxy's fallback when a key record is missing from Redis."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import Parameter

from gateway_control.errors import NotFoundError
from gateway_control.security.guards import require_internal_token
from gateway_control.state import ControlState

PROTOBUF = "application/x-protobuf"
Digest = Annotated[str, Parameter(pattern=r"^[0-9a-f]{64}$", description="hex HMAC-SHA256 of the key")]


class InternalKeyController(Controller):
    """Key records by digest for the data plane (Bearer INTERNAL_TOKEN)."""

    path = "/internal"
    tags = ["internal"]
    guards = [require_internal_token]
    include_in_schema = False

    @get("/keys/{digest:str}", operation_id="getKeyRecord", summary="Key record by digest")
    async def get_key_record(self, control: ControlState, digest: Digest) -> Response[bytes]:
        """The serialized KeyRecord (revoked keys included, flagged), or 404 for an unknown digest."""
        record = await control.key_records.lookup(digest)
        if record is None:
            raise NotFoundError("no key has this digest")
        return Response(content=record.SerializeToString(), media_type=PROTOBUF)
