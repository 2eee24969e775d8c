"""The SSRF guard of webhooks: only globally routable addresses, checked when connecting.

The host name of a webhook URL is resolved *at connect time* and the connection goes to the
address that was checked, so a DNS answer that changes between a check and the connect (DNS
rebinding) cannot smuggle a private address in. Refused: loopback, private (RFC 1918, ULA),
link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, unspecified and
every other reserved range — anything `ipaddress` does not call global — unless the operator
allows private targets (ALERT_WEBHOOK_ALLOW_PRIVATE, for webhooks inside a private network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(httpcore.ConnectError):
    """The webhook's host resolved only to addresses the guard refuses."""


def is_refused(address: IPAddress) -> bool:
    """True for an address a webhook must not reach by default (not globally routable)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with every TCP connect checked against the guard."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve `host`, refuse guarded addresses, and connect to the first address allowed."""
        address = await self._resolve(host, port)
        return await self._inner.connect_tcp(
            str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def _resolve(self, host: str, port: int) -> IPAddress:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        allowed = [a for a in addresses if self._allow_private or not is_refused(a)]
        if not allowed:
            refused = ", ".join(sorted({str(a) for a in addresses})) or "nothing"
            raise AddressRefused(
                f"webhook host {host} resolves to {refused}: loopback, private, link-local and reserved "
                "addresses are refused (ALERT_WEBHOOK_ALLOW_PRIVATE allows them)"
            )
        return allowed[0]

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Webhooks never go to a Unix socket."""
        raise AddressRefused("webhooks cannot use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        await self._inner.sleep(seconds)
