"""What to probe: the deployments of a ConfigSnapshot, each with its provider and adapter.

Credentials are opened here, once per snapshot, with the data-plane key (aad = provider id) and
kept only in memory. A deployment that cannot be probed as configured (its provider is missing,
its adapter type unknown, its credentials do not open) still becomes a target: probing it
records a failure naming the problem, so the deployment shows as unhealthy rather than vanishing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway_common.sealing import DataPlaneKeys, SealingError
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Deployment, Provider
from gateway_providers.base import (
    DeploymentTarget,
    ProviderAdapter,
    ProviderConfig,
    ProviderConfigError,
    UpstreamRequest,
)
from gateway_providers.registry import UnknownProviderError, get_adapter

from gateway_health.errors import TargetError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """One deployment to probe: how to build its probe request, or why it cannot be built."""

    deployment_id: str
    provider_id: str
    provider_type: str
    target: DeploymentTarget | None = field(default=None, repr=False)
    adapter: ProviderAdapter | None = field(default=None, repr=False)
    problem: str | None = None

    def build_request(self, resolved: DeploymentTarget | None = None) -> UpstreamRequest:
        """The adapter's cheapest request for this deployment; raises TargetError when it has none.

        `resolved` is the target with short-lived credentials filled in (STS, OAuth tokens).
        """
        if self.problem is not None or self.target is None or self.adapter is None:
            raise TargetError(self.problem or "deployment has no probe target")
        try:
            return self.adapter.probe_request(resolved or self.target)
        except ProviderConfigError as exc:
            raise TargetError(str(exc)) from None

    def describe_failure(self, status: int, headers: Mapping[str, str], body: bytes) -> str:
        """A short text for a non-2xx probe answer, from the adapter's own error parsing."""
        if self.adapter is None:
            return f"HTTP {status}"
        failure = self.adapter.parse_error(status, headers, body)
        return f"{failure.type}: {failure.message}"

    def secrets(self) -> tuple[str, ...]:
        """The clear credential values, so error texts can be scrubbed of them before storing."""
        if self.target is None:
            return ()
        return tuple(v for v in self.target.provider.credentials.values() if v)


def targets_from_snapshot(snapshot: ConfigSnapshot, keys: DataPlaneKeys) -> dict[str, ProbeTarget]:
    """Every deployment of `snapshot` as a ProbeTarget, by deployment id."""
    providers = {p.id: p for p in snapshot.providers}
    opened: dict[str, ProviderConfig | str] = {}
    targets: dict[str, ProbeTarget] = {}
    for deployment in snapshot.deployments:
        provider = providers.get(deployment.provider_id)
        if provider is None:
            targets[deployment.id] = _broken(deployment, "", f"provider {deployment.provider_id!r} not found")
            continue
        if provider.id not in opened:
            opened[provider.id] = _open_provider(provider, keys)
        targets[deployment.id] = _target(deployment, provider, opened[provider.id])
    return targets


def _open_provider(provider: Provider, keys: DataPlaneKeys) -> ProviderConfig | str:
    try:
        credentials = keys.open(provider.credentials, aad=provider.id)
    except SealingError as exc:
        log.error("cannot open provider credentials", extra={"provider_id": provider.id, "reason": str(exc)})
        return f"provider credentials cannot be opened: {exc}"
    return ProviderConfig(
        provider_type=provider.type,
        base_url=provider.base_url,
        credentials=credentials,
        settings=dict(provider.settings),
    )


def _target(deployment: Deployment, provider: Provider, config: ProviderConfig | str) -> ProbeTarget:
    if isinstance(config, str):
        return _broken(deployment, provider.type, config)
    try:
        adapter = get_adapter(provider.type)
    except UnknownProviderError as exc:
        return _broken(deployment, provider.type, str(exc))
    return ProbeTarget(
        deployment_id=deployment.id,
        provider_id=provider.id,
        provider_type=provider.type,
        target=DeploymentTarget(upstream_model=deployment.upstream_model, provider=config),
        adapter=adapter,
    )


def _broken(deployment: Deployment, provider_type: str, problem: str) -> ProbeTarget:
    return ProbeTarget(
        deployment_id=deployment.id,
        provider_id=deployment.provider_id,
        provider_type=provider_type,
        problem=problem,
    )
