# ---------------------------------------------------------------------------------------------
# Cluster
# ---------------------------------------------------------------------------------------------

variable "kubeconfig_path" {
  description = "Path of the kubeconfig file that reaches the existing cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "The kubeconfig context to use (null: the file's current context)."
  type        = string
  default     = null
}

variable "namespace" {
  description = "Namespace of the gateway (and of NATS, when this module installs it)."
  type        = string
  default     = "gateway"
}

variable "create_namespace" {
  description = "Create the namespace (false: it exists already)."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# Images and scale
# ---------------------------------------------------------------------------------------------

variable "images" {
  description = "Image of each service (proxy, control, accounting, health), pinned to a tag or digest."
  type        = map(string)
  default = {
    proxy      = "open-model-gateway/proxy:0.1.0"
    control    = "open-model-gateway/control:0.1.0"
    accounting = "open-model-gateway/accounting:0.1.0"
    health     = "open-model-gateway/health:0.1.0"
  }

  validation {
    condition     = length(setsubtract(["proxy", "control", "accounting", "health"], keys(var.images))) == 0
    error_message = "The images map needs proxy, control, accounting and health."
  }
}

variable "image_pull_policy" {
  description = "imagePullPolicy of every container."
  type        = string
  default     = "IfNotPresent"
}

variable "proxy_min_replicas" {
  description = "Fewest proxy pods the autoscaler keeps."
  type        = number
  default     = 3
}

variable "proxy_max_replicas" {
  description = "Most proxy pods the autoscaler may run."
  type        = number
  default     = 30
}

variable "proxy_target_cpu_utilization" {
  description = "Average CPU utilisation (percent of requests) the proxy autoscaler aims for."
  type        = number
  default     = 70
}

variable "proxy_workers" {
  description = "Granian worker processes per proxy pod; match the proxy's CPU limit."
  type        = number
  default     = 2
}

variable "nats_stream_replicas" {
  description = "Copies of each JetStream stream and KV bucket (NATS_STREAM_REPLICAS): 3 on the 3-node cluster, 1 on a single server."
  type        = number
  default     = 3
}

variable "proxy_usage_spool_size" {
  description = "Size limit of the proxy's usage spool volume (emptyDir); USAGE_SPOOL_MAX_BYTES is set to three quarters of it."
  type        = number
  default     = 2147483648
}

variable "control_replicas" {
  description = "Control pods (publishing is serialised by a Postgres advisory lock)."
  type        = number
  default     = 2
}

variable "accounting_replicas" {
  description = "Accounting pods; they share the durable JetStream consumer. Scale with replicas, not workers."
  type        = number
  default     = 2
}

variable "health_replicas" {
  description = "Health pods. Until probe leases land, every replica probes every deployment."
  type        = number
  default     = 1
}

variable "wait_for_rollout" {
  description = "Wait for each Deployment to become ready during apply."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# External services
# ---------------------------------------------------------------------------------------------

variable "database_url" {
  description = "Managed Postgres: postgresql://user:password@host:5432/database (control and accounting only)."
  type        = string
  sensitive   = true
}

variable "redis_url" {
  description = "Managed Redis / Valkey: redis://[:password@]host:6379/0 or rediss://... (proxy and control)."
  type        = string
  sensitive   = true
}

variable "install_nats" {
  description = "Install a 3-node NATS JetStream cluster with the official Helm chart (false: use nats_url)."
  type        = bool
  default     = true
}

variable "nats_url" {
  description = "NATS endpoint when install_nats is false, e.g. nats://nats.messaging:4222."
  type        = string
  default     = ""
}

variable "nats_chart_version" {
  description = "Version of the official NATS Helm chart."
  type        = string
  default     = "1.2.4"
}

variable "nats_values_file" {
  description = "Helm values for NATS (empty: deploy/nats/values.yaml of this repository)."
  type        = string
  default     = ""
}

# ---------------------------------------------------------------------------------------------
# Secrets (stored in the gateway-secrets Secret)
# ---------------------------------------------------------------------------------------------

variable "key_pepper" {
  description = "HMAC pepper of virtual-key digests (16+ characters). Changing it invalidates every key."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.key_pepper) >= 16
    error_message = "key_pepper must be at least 16 characters."
  }
}

variable "dataplane_key" {
  description = "base64 of 32 random bytes: seals provider credentials in the config snapshot."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.dataplane_key))
    error_message = "dataplane_key must be the base64 encoding of exactly 32 bytes."
  }
}

variable "dataplane_key_id" {
  description = "Identifier of dataplane_key, recorded with every sealed credential."
  type        = string
  default     = "dp1"
}

variable "master_key" {
  description = "base64 of 32 random bytes: encrypts provider credentials at rest in Postgres (control)."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.master_key))
    error_message = "master_key must be the base64 encoding of exactly 32 bytes."
  }
}

variable "master_key_id" {
  description = "Identifier of master_key, recorded with every encrypted credential."
  type        = string
  default     = "mk1"
}

variable "jwt_secret" {
  description = "Signs admin sessions (32+ characters)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.jwt_secret) >= 32
    error_message = "jwt_secret must be at least 32 characters."
  }
}

variable "internal_token" {
  description = "Shared secret for service-to-service HTTP (16+ characters)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.internal_token) >= 16
    error_message = "internal_token must be at least 16 characters."
  }
}

variable "admin_email" {
  description = "Bootstrap platform admin, created at control's first start (empty: none)."
  type        = string
  default     = ""
}

variable "admin_password" {
  description = "Password of the bootstrap admin (12+ characters; set together with admin_email)."
  type        = string
  default     = ""
  sensitive   = true
}

# ---------------------------------------------------------------------------------------------
# Observability
# ---------------------------------------------------------------------------------------------

variable "log_level" {
  description = "LOG_LEVEL of every service."
  type        = string
  default     = "INFO"
}

variable "otel_exporter_otlp_endpoint" {
  description = "OTLP/HTTP traces endpoint, e.g. http://otel-collector.observability:4318 (empty: off)."
  type        = string
  default     = ""
}
