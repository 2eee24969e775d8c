"""`python -m gateway_devstack dev`: the whole gateway on embedded defaults (what `make dev` runs).

Starts the stack under ROOT, the services on the documented ports, seeds a demo tenant, key and
model through control's API, writes .run/dev.env, prints how to call it, and stops everything on
Ctrl-C (or when any process dies).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from gateway_devstack.cli import Command
from gateway_devstack.errors import DevStackError
from gateway_devstack.readiness import wait_for_ready
from gateway_devstack.seed import ControlClient, DemoSeed, seed_demo
from gateway_devstack.settings import StackSettings
from gateway_devstack.signals import exit_on_termination
from gateway_devstack.stack import start_stack
from gateway_devstack.system import GatewaySystem, SystemPorts, SystemSecrets

_WATCH_INTERVAL = 0.5


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path(".run/dev"), help="data, logs, secrets")
    parser.add_argument("--env-file", type=Path, default=Path(".run/dev.env"), help="where to write the env")
    parser.add_argument(
        "--free-ports",
        action="store_true",
        help="listen on free ports instead of the documented 8080/8081/... (for tests beside a dev system)",
    )


def write_env_file(path: Path, system: GatewaySystem, seed: DemoSeed) -> None:
    """Write what a developer sources to call the gateway (DESIGN.md: dev defaults)."""
    lines = {
        "OPENAI_BASE_URL": system.proxy_url,
        "OPENAI_API_KEY": seed.api_key,
        # The Anthropic SDK reads these; its base URL is the proxy's root (it adds /v1/messages).
        "ANTHROPIC_BASE_URL": system.proxy_url.removesuffix("/v1"),
        "ANTHROPIC_API_KEY": seed.api_key,
        "CONTROL_URL": system.control_url,
        "ADMIN_EMAIL": system.secrets.admin_email,
        "ADMIN_PASSWORD": system.secrets.admin_password,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so whoever waits for the file never reads half of it.
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(f"export {name}={value}\n" for name, value in lines.items()))
    partial.chmod(0o600)
    partial.replace(path)


def _banner(system: GatewaySystem, seed: DemoSeed, env_file: Path) -> str:
    return f"""
Open Model Gateway is running.
  proxy    {system.proxy_url}
  control  {system.control_url}   (admin {system.secrets.admin_email} / {system.secrets.admin_password})
  logs     {system.root}/logs
  env      {env_file}

Try it:
  source {env_file}
  curl -s $OPENAI_BASE_URL/chat/completions -H "Authorization: Bearer $OPENAI_API_KEY" \\
       -H 'content-type: application/json' \\
       -d '{{"model":"{seed.model}","messages":[{{"role":"user","content":"hi"}}]}}'

Ctrl-C stops everything.
"""


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    root: Path = args.root.resolve()
    ports = SystemPorts.reuse_or_free(root / "ports.json") if args.free_ports else SystemPorts.dev()
    busy = ports.busy()
    if busy:
        print(
            f"error: ports already in use: {', '.join(busy)} (is another make dev running?)", file=sys.stderr
        )
        return 1
    secrets = SystemSecrets.load_or_create(root / "secrets.json")
    try:
        with exit_on_termination(), start_stack(StackSettings.from_env(root / "stack", env)) as stack:
            base_env = {k: v for k, v in env.items() if k in ("PATH", "HOME", "LANG", "TZ")}
            with GatewaySystem(root, stack.endpoints, ports, secrets, base_env=base_env) as system:
                client = ControlClient(system.control_url, secrets.admin_email, secrets.admin_password)
                try:
                    seed = seed_demo(
                        client, system.fake_upstream_url, secrets.upstream_api_key, root / "seed.json"
                    )
                finally:
                    client.close()
                # The proxy holds a config with the seeded model once control has published it, and
                # knows the key once control has (re)written its record into a Valkey that may have
                # restarted empty; only then is the key handed out.
                wait_for_ready(f"http://127.0.0.1:{ports.proxy}/readyz", 30.0, name="proxy")
                wait_for_ready(
                    f"{system.proxy_url}/models",
                    30.0,
                    name="proxy (demo key)",
                    headers={"Authorization": f"Bearer {seed.api_key}"},
                )
                write_env_file(args.env_file.resolve(), system, seed)
                print(_banner(system, seed, args.env_file), flush=True)
                while not (dead := stack.dead_servers() + system.dead()):
                    time.sleep(_WATCH_INTERVAL)
                print(f"stopping: {', '.join(dead)} exited; see {root}/logs", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except (DevStackError, httpx.HTTPError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


COMMAND = Command(
    name="dev",
    help="run the whole gateway (stack, services, fake upstream) with a seeded demo key until Ctrl-C",
    add_arguments=_add_arguments,
    run=_run,
)
