"""The proxy's settings: the only module that reads configuration (YAML, .env, environment).

A field's name is its YAML key (top level or under `proxy:`), upper-cased its environment
variable (`timeout_sync_s` / `TIMEOUT_SYNC_S`). Durations are seconds. `0` for a `DEFAULT_*`
limit means unlimited. The object is frozen and built once at startup; the service README
lists every setting.
"""

from __future__ import annotations

from pathlib import Path

from gateway_common.settings import GatewaySettings
from pydantic import Field, SecretStr


class ProxySettings(GatewaySettings):
    """Everything the proxy is configured with; see the service README for each setting."""

    service_name: str = "proxy"

    # Where it listens and how many Granian worker processes serve it.
    proxy_host: str = "127.0.0.1"
    proxy_port: int = Field(default=8080, ge=1, le=65535)
    proxy_workers: int = Field(default=1, ge=1)
    # Directory where several workers' metrics are aggregated (prometheus_client's multiprocess
    # mode), so /metrics answers for all workers. `python -m gateway_proxy` makes a fresh one
    # when PROXY_WORKERS > 1 and this is empty; a directory given here is emptied at start.
    prometheus_multiproc_dir: str = ""
    # Seconds Granian waits for in-flight requests and the usage flush on SIGTERM.
    proxy_shutdown_timeout_s: float = Field(default=30.0, gt=0)

    # Dependencies. No Postgres: the proxy serves from Redis and the NATS snapshot only.
    redis_url: str
    nats_url: str
    control_url: str = ""
    internal_token: SecretStr = SecretStr("")

    # Secrets: the HMAC pepper of key digests and the data-plane key that opens provider credentials.
    key_pepper: SecretStr
    dataplane_key: SecretStr
    dataplane_key_id: str = "dp1"

    # Timeouts (DESIGN.md defaults); a model's own Timeouts in the snapshot override them.
    timeout_sync_s: float = Field(default=300.0, gt=0)
    timeout_stream_idle_s: float = Field(default=30.0, gt=0)
    timeout_total_s: float = Field(default=300.0, gt=0)
    timeout_upstream_s: float = Field(default=280.0, gt=0)
    timeout_connect_s: float = Field(default=10.0, gt=0)

    # Upstream connection pool (HTTP/1.1 keep-alive; one pool shared by every provider).
    upstream_max_connections: int = Field(default=1000, ge=1)
    # Idle connections kept for reuse, over every provider; more are closed when released.
    upstream_max_keepalive: int = Field(default=200, ge=0)
    # Seconds an idle upstream connection stays open for reuse.
    upstream_keepalive_expiry_s: float = Field(default=30.0, gt=0)

    # Request hygiene.
    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Granian itself refuses 100+ headers or ~400 KiB of them with a bare 431; these tighter
    # limits answer in OpenAI's error shape.
    max_headers: int = Field(default=64, ge=8)
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)

    # Virtual-key cache: positive entries, and a short negative cache for unknown digests.
    key_cache_ttl_s: float = Field(default=30.0, gt=0)
    key_cache_size: int = Field(default=100_000, ge=1)
    key_negative_ttl_s: float = Field(default=5.0, ge=0)
    key_negative_cache_size: int = Field(default=100_000, ge=1)
    redis_timeout_s: float = Field(default=0.25, gt=0)

    # Config snapshot following.
    snapshot_poll_interval_s: float = Field(default=2.0, gt=0)

    # Usage events: bounded in-memory queue, publish timeout, and the shutdown flush budget.
    usage_queue_size: int = Field(default=100_000, ge=1)
    usage_publish_timeout_s: float = Field(default=2.0, gt=0)
    usage_publish_concurrency: int = Field(default=1024, ge=1)
    # How long the publisher waits for more events to join a batch (0: publish at once); an event
    # waits in memory at most this long (SIGTERM flushes it, a SIGKILL loses it). A batch costs a
    # wake-up, a write and a read of acks: 20 ms answers c=1 0.1-0.2 ms sooner than 2 ms did.
    usage_publish_linger_s: float = Field(default=0.02, ge=0, le=1)
    # How long shutdown waits for the queued events to be published; the rest is spooled.
    usage_flush_timeout_s: float = Field(default=10.0, gt=0)
    # On-disk spool for usage events NATS could not take (spool.py): one slot per process under
    # this directory (relative to the working directory), bounded in bytes, alert at 80 %.
    usage_spool_dir: Path = Path(".run/usage-spool")
    usage_spool_max_bytes: int = Field(default=1024 * 1024 * 1024, ge=64 * 1024)

    # Rate-limit fallbacks where neither the key/tenant nor control sets one (0 = unlimited).
    default_key_rpm: int = Field(default=0, ge=0)
    default_key_tpm: int = Field(default=0, ge=0)
    default_key_max_parallel: int = Field(default=0, ge=0)
    default_tenant_rpm: int = Field(default=0, ge=0)
    default_tenant_tpm: int = Field(default=0, ge=0)
    default_tenant_max_parallel: int = Field(default=0, ge=0)

    # Load tiktoken's cl100k table (≈28 MiB of RSS per worker, ≈0.4 s) at startup instead of when
    # a token count is first needed (hard budgets, usage a provider did not report; TPM limits
    # count without it).
    tokenizer_preload: bool = False

    # Guards (issue 4; see the README's "Guards" section). Key store fallback and staleness:
    key_stale_s: float = Field(default=120.0, ge=0)
    key_control_timeout_s: float = Field(default=0.5, gt=0)
    key_control_concurrency: int = Field(default=16, ge=1)
    # Rate limits (limits.py): an admission is decided locally, at limit ÷ replicas, once Redis has
    # been silent for the timeout; an outage switches the process to local limits until a retry works.
    rate_limit_redis_timeout_s: float = Field(default=0.05, gt=0, le=1.0)
    rate_limit_outage_retry_s: float = Field(default=1.0, gt=0)
    rate_limit_lease_ttl_s: float = Field(default=30.0, ge=1.0)
    proxy_replicas: int = Field(default=1, ge=1)
    # Idempotency-Key: how long a response is replayed, and the largest response recorded.
    idempotency_ttl_s: int = Field(default=86_400, ge=60)
    idempotency_max_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Hard budgets (budgets.py; the README's "Budgets"): how long a request's reservation waits
    # for accounting to settle it; one nobody releases (a crashed proxy, a lost event) expires then.
    budget_hold_ttl_s: float = Field(default=900.0, ge=10.0)
    # Completion tokens reserved for a chat/completions request that sets no max_tokens.
    budget_default_max_output_tokens: int = Field(default=4096, ge=1)
    # Timeout of the admission call when a hard budget applies (a reservation cannot be decided
    # locally, so it waits longer than the rate limits' fast-failing call).
    budget_redis_timeout_s: float = Field(default=1.0, gt=0)
    # Redis unreachable: refuse requests under a hard budget with 503 (false), or serve them
    # unreserved (true) and rely on accounting's alerts.
    budget_fail_open: bool = False

    # Routing and failover (issue 8; see the README's "Routing and failover" section).
    # Upstream attempts per request, across deployments and fallback models (≥ 1).
    routing_max_attempts: int = Field(default=6, ge=1, le=20)
    # Backoff before re-trying a deployment already tried for this request: base * 2^n with full
    # jitter, at least the provider's Retry-After, and never more than the cap (a longer
    # Retry-After makes that deployment skip instead).
    routing_retry_backoff_s: float = Field(default=0.05, ge=0)
    routing_retry_max_wait_s: float = Field(default=2.0, ge=0)
    # Lowest-latency strategy: EWMA weight of a new time-to-first-token sample, and how often a
    # random deployment is tried instead so every deployment's figure stays current.
    routing_latency_ewma_alpha: float = Field(default=0.3, gt=0, le=1)
    routing_latency_explore: float = Field(default=0.05, ge=0, le=1)
    # Circuit breaker per deployment (passive signals): opens after N consecutive failures, or
    # when at least `min_requests` calls of the window failed at `error_rate` or more; stays open
    # for the cooldown (or the provider's Retry-After), doubling on each failed half-open trial.
    breaker_consecutive_failures: int = Field(default=5, ge=1)
    breaker_error_rate: float = Field(default=0.5, gt=0, le=1)
    breaker_min_requests: int = Field(default=20, ge=1)
    breaker_window_s: float = Field(default=30.0, gt=0)
    breaker_cooldown_s: float = Field(default=10.0, gt=0)
    breaker_max_cooldown_s: float = Field(default=300.0, gt=0)
    # The health service's verdicts (NATS KV gateway_health): the watch is rebuilt this often.
    health_resync_s: float = Field(default=60.0, gt=0)
