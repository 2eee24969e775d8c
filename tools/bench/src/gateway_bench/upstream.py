"""The canned upstream: nginx (Debian's nginx-light + the echo module) answering like OpenAI.

A Python fake tops out near a few thousand requests per second on one core and would measure
itself; nginx serves these bodies at tens of thousands. Locations, each a provider base URL:

- `/sync/v1/chat/completions`: a chat completion JSON with usage (`return`, < 4 KiB);
- `/sse/v1/chat/completions`: a 20-event stream (18 content chunks, the usage chunk, `[DONE]`),
  about 5 KiB, so it is written in `echo` pieces (one `return` string is capped at 4 KiB);
- `/slow/v1/chat/completions`: the same JSON after `echo_sleep 0.05` (a 50 ms provider).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Final

ECHO_MODULE: Final = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")
DEBIAN_PACKAGES: Final = ("nginx-light", "libnginx-mod-http-echo", "wrk")
CONTENT_EVENTS: Final = 18

COMPLETION: Final = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
    "system_fingerprint": "fp_bench",
}


def ensure_tools() -> None:
    """Install nginx, its echo module and wrk from Debian when any is missing (idempotent)."""
    if shutil.which("nginx") and shutil.which("wrk") and ECHO_MODULE.exists():
        return
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *DEBIAN_PACKAGES],
        check=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )


def _chunk(index: int, delta: dict[str, object], finish: str | None) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        },
        separators=(",", ":"),
    )


def sse_events() -> list[str]:
    """The 20 `data:` payloads of the canned stream, in order."""
    events = [_chunk(0, {"role": "assistant", "content": ""}, None)]
    events += [_chunk(i, {"content": f"word{i} "}, None) for i in range(1, CONTENT_EVENTS - 1)]
    events.append(_chunk(CONTENT_EVENTS, {}, "stop"))
    usage = json.loads(_chunk(0, {}, None))
    usage["choices"] = []
    usage["usage"] = {"prompt_tokens": 12, "completion_tokens": 17, "total_tokens": 29}
    events.append(json.dumps(usage, separators=(",", ":")))
    events.append("[DONE]")
    return events


def _quoted(text: str, *, event: bool = False) -> str:
    # nginx single-quoted string: escape backslashes and quotes; an SSE event ends with the
    # `\n\n` escape, which nginx turns into two newlines.
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return "'" + escaped + ("\\n\\n" if event else "") + "'"


def nginx_config(root: Path, port: int) -> str:
    """The whole nginx.conf: one worker, no logs, keep-alive without a request cap."""
    body = json.dumps(COMPLETION, separators=(",", ":"))
    sse = "\n".join(f"      echo -n {_quoted(f'data: {event}', event=True)};" for event in sse_events())
    return f"""load_module {ECHO_MODULE};
worker_processes 1;
daemon off;
error_log stderr warn;
pid {root}/nginx.pid;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /sync/v1/chat/completions {{
      default_type application/json;
      return 200 {_quoted(body)};
    }}
    location = /slow/v1/chat/completions {{
      default_type application/json;
      echo_sleep 0.05;
      echo -n {_quoted(body)};
    }}
    location = /sse/v1/chat/completions {{
      default_type text/event-stream;
{sse}
    }}
  }}
}}
"""
