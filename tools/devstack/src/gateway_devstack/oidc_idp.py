"""A real OpenID Connect provider on loopback for SSO tests: tools/oidc-idp (node-oidc-provider).

`install_oidc_idp()` runs `npm ci` in tools/oidc-idp when its node_modules are missing or older
than the lock file. `oidc_idp_process(...)` is an unstarted ManagedProcess of `node idp.mjs` on a
free port, ready when its discovery document answers; its issuer is `OidcIdpProcess.issuer`.
Without `jwks` the provider signs with a development key of its own (fine unless a test must
sign tokens like the provider does).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway_devstack.errors import DevStackError
from gateway_devstack.procs import ManagedProcess, free_port

IDP_DIR = Path(__file__).resolve().parents[3] / "oidc-idp"


def install_oidc_idp() -> None:
    """`npm ci` in tools/oidc-idp unless its node_modules match the lock file already."""
    installed = IDP_DIR / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= (IDP_DIR / "package-lock.json").stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise DevStackError("npm (Node 20+) is required for the OpenID Connect provider of the SSO tests")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=IDP_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise DevStackError(f"npm ci in {IDP_DIR} failed:\n{result.stderr[-4000:]}")


@dataclass(frozen=True)
class OidcIdpProcess:
    """An (unstarted) IdP process and the issuer URL it will serve."""

    issuer: str
    process: ManagedProcess


def oidc_idp_process(
    log_dir: Path,
    clients: list[dict[str, Any]],
    *,
    accounts: dict[str, dict[str, Any]] | None = None,
    jwks: dict[str, Any] | None = None,
    clock_offset_s: int = 0,
    id_token_ttl_s: int = 3600,
) -> OidcIdpProcess:
    """The IdP with these clients ({client_id, client_secret, redirect_uris}) and accounts.

    An account maps a login to its claims ({email, email_verified, name}); any other login signs
    in as login@idp.test. A negative `clock_offset_s` with a short `id_token_ttl_s` makes the
    provider issue ID tokens that have already expired (a provider with a slow clock).
    """
    node = shutil.which("node")
    if node is None:
        raise DevStackError("node (20+) is required for the OpenID Connect provider of the SSO tests")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        "PATH": str(Path(node).parent),
        "IDP_PORT": str(port),
        "IDP_CLIENTS": json.dumps(clients),
        "IDP_ACCOUNTS": json.dumps(accounts or {}),
        "IDP_CLOCK_OFFSET_S": str(clock_offset_s),
        "IDP_ID_TOKEN_TTL_S": str(id_token_ttl_s),
    }
    if jwks is not None:
        env["IDP_JWKS"] = json.dumps(jwks)
    process = ManagedProcess(
        name=f"oidc-idp-{port}",
        argv=[node, str(IDP_DIR / "idp.mjs")],
        env=env,
        cwd=IDP_DIR,
        log_path=log_dir / f"oidc-idp-{port}.log",
        ready_url=f"{issuer}/.well-known/openid-configuration",
    )
    return OidcIdpProcess(issuer=issuer, process=process)
