locals {
  namespace = var.create_namespace ? kubernetes_namespace_v1.gateway[0].metadata[0].name : var.namespace
  nats_url  = var.install_nats ? "nats://nats:4222" : var.nats_url
  nats_values_file = (
    var.nats_values_file != "" ? var.nats_values_file : "${path.module}/../deploy/nats/values.yaml"
  )

  part_of = { "app.kubernetes.io/part-of" = "open-model-gateway" }

  # Selector labels of each workload's pods (what Services, PDBs and NetworkPolicies match).
  selector = {
    for name in ["proxy", "control", "accounting", "health", "migrate"] :
    name => merge(local.part_of, { "app.kubernetes.io/name" = name })
  }

  # Shape of each service: ports, replicas (null for the proxy: its autoscaler owns the count),
  # shutdown budget and resources.
  services = {
    proxy = {
      component    = "data-plane"
      http_port    = 8080
      grpc_port    = null
      replicas     = null
      grace_period = 45
      requests     = { cpu = "1", memory = "512Mi" }
      limits       = { cpu = "2", memory = "1Gi" }
    }
    control = {
      component    = "control-plane"
      http_port    = 8081
      grpc_port    = null
      replicas     = var.control_replicas
      grace_period = 30
      requests     = { cpu = "250m", memory = "256Mi" }
      limits       = { cpu = "1", memory = "512Mi" }
    }
    accounting = {
      component    = "control-plane"
      http_port    = 8082
      grpc_port    = 50051
      replicas     = var.accounting_replicas
      grace_period = 30
      requests     = { cpu = "250m", memory = "256Mi" }
      limits       = { cpu = "1", memory = "512Mi" }
    }
    health = {
      component    = "control-plane"
      http_port    = 8083
      grpc_port    = 50052
      replicas     = var.health_replicas
      grace_period = 30
      requests     = { cpu = "100m", memory = "128Mi" }
      limits       = { cpu = "500m", memory = "256Mi" }
    }
  }

  # Non-secret settings, by environment name (services/<name>/README.md lists them all).
  service_config = {
    proxy = {
      PROXY_HOST                  = "0.0.0.0"
      PROXY_PORT                  = "8080"
      PROXY_WORKERS               = tostring(var.proxy_workers)
      USAGE_SPOOL_DIR             = "/var/lib/gateway/usage-spool"
      USAGE_SPOOL_MAX_BYTES       = tostring(floor(var.proxy_usage_spool_size * 3 / 4))
      NATS_URL                    = local.nats_url
      CONTROL_URL                 = "http://control:8081"
      DATAPLANE_KEY_ID            = var.dataplane_key_id
      LOG_LEVEL                   = var.log_level
      OTEL_EXPORTER_OTLP_ENDPOINT = var.otel_exporter_otlp_endpoint
    }
    control = {
      CONTROL_HOST                = "0.0.0.0"
      CONTROL_PORT                = "8081"
      NATS_URL                    = local.nats_url
      NATS_STREAM_REPLICAS        = tostring(var.nats_stream_replicas)
      ACCOUNTING_GRPC_TARGET      = "accounting:50051"
      HEALTH_GRPC_TARGET          = "health:50052"
      DATAPLANE_KEY_ID            = var.dataplane_key_id
      MASTER_KEY_ID               = var.master_key_id
      LOG_LEVEL                   = var.log_level
      OTEL_EXPORTER_OTLP_ENDPOINT = var.otel_exporter_otlp_endpoint
    }
    accounting = {
      ACCOUNTING_HOST             = "0.0.0.0"
      ACCOUNTING_PORT             = "8082"
      ACCOUNTING_GRPC_PORT        = "50051"
      NATS_URL                    = local.nats_url
      NATS_STREAM_REPLICAS        = tostring(var.nats_stream_replicas)
      LOG_LEVEL                   = var.log_level
      OTEL_EXPORTER_OTLP_ENDPOINT = var.otel_exporter_otlp_endpoint
    }
    health = {
      HEALTH_HOST                 = "0.0.0.0"
      HEALTH_PORT                 = "8083"
      HEALTH_GRPC_PORT            = "50052"
      NATS_URL                    = local.nats_url
      NATS_STREAM_REPLICAS        = tostring(var.nats_stream_replicas)
      DATAPLANE_KEY_ID            = var.dataplane_key_id
      LOG_LEVEL                   = var.log_level
      OTEL_EXPORTER_OTLP_ENDPOINT = var.otel_exporter_otlp_endpoint
    }
  }

  # Keys of the gateway-secrets Secret each service receives, by environment name. Each service
  # gets only what it uses: the proxy never sees DATABASE_URL or MASTER_KEY.
  service_secrets = {
    proxy      = ["REDIS_URL", "KEY_PEPPER", "DATAPLANE_KEY", "INTERNAL_TOKEN"]
    control    = ["DATABASE_URL", "REDIS_URL", "KEY_PEPPER", "DATAPLANE_KEY", "INTERNAL_TOKEN", "JWT_SECRET", "MASTER_KEY", "ADMIN_EMAIL", "ADMIN_PASSWORD"]
    accounting = ["DATABASE_URL"]
    health     = ["DATAPLANE_KEY"]
  }
  optional_secrets = ["ADMIN_EMAIL", "ADMIN_PASSWORD"]

  secret_data = {
    DATABASE_URL   = var.database_url
    REDIS_URL      = var.redis_url
    KEY_PEPPER     = var.key_pepper
    DATAPLANE_KEY  = var.dataplane_key
    MASTER_KEY     = var.master_key
    JWT_SECRET     = var.jwt_secret
    INTERNAL_TOKEN = var.internal_token
    ADMIN_EMAIL    = var.admin_email
    ADMIN_PASSWORD = var.admin_password
  }

  # Egress by port to the datastores, which may be managed services outside the cluster (narrow
  # them with ipBlock rules for your endpoints). Only control, accounting and the migrations Job
  # reach Postgres (5432): the proxy never does.
  datastore_egress_ports = {
    proxy      = [6379, 4222]
    control    = [5432, 6379, 4222]
    accounting = [5432, 4222]
    health     = [4222]
    migrate    = [5432]
  }
  https_egress = ["proxy", "health"]
}
