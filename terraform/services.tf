resource "kubernetes_deployment_v1" "service" {
  for_each = local.services

  metadata {
    name      = each.key
    namespace = local.namespace
    labels    = merge(local.selector[each.key], { "app.kubernetes.io/component" = each.value.component })
  }

  wait_for_rollout = var.wait_for_rollout

  spec {
    replicas               = each.value.replicas
    revision_history_limit = 5

    selector {
      match_labels = local.selector[each.key]
    }

    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }

    template {
      metadata {
        labels = merge(local.selector[each.key], { "app.kubernetes.io/component" = each.value.component })
        annotations = {
          "prometheus.io/scrape" = "true"
          "prometheus.io/port"   = tostring(each.value.http_port)
          "prometheus.io/path"   = "/metrics"
          # Roll the pods when their configuration changes.
          "checksum/config" = sha256(jsonencode(local.service_config[each.key]))
        }
      }

      spec {
        service_account_name             = kubernetes_service_account_v1.workload[each.key].metadata[0].name
        automount_service_account_token  = false
        enable_service_links             = false
        termination_grace_period_seconds = each.value.grace_period

        security_context {
          run_as_non_root = true
          run_as_user     = 10001
          run_as_group    = 10001
          fs_group        = 10001
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }

        container {
          name              = each.key
          image             = var.images[each.key]
          image_pull_policy = var.image_pull_policy

          port {
            name           = "http"
            container_port = each.value.http_port
            protocol       = "TCP"
          }

          dynamic "port" {
            for_each = each.value.grpc_port == null ? [] : [each.value.grpc_port]
            content {
              name           = "grpc"
              container_port = port.value
              protocol       = "TCP"
            }
          }

          env_from {
            config_map_ref {
              name = kubernetes_config_map_v1.service[each.key].metadata[0].name
            }
          }

          env {
            name = "INSTANCE_ID"
            value_from {
              field_ref {
                field_path = "metadata.name"
              }
            }
          }

          dynamic "env" {
            for_each = local.service_secrets[each.key]
            content {
              name = env.value
              value_from {
                secret_key_ref {
                  name     = kubernetes_secret_v1.gateway.metadata[0].name
                  key      = env.value
                  optional = contains(local.optional_secrets, env.value)
                }
              }
            }
          }

          startup_probe {
            http_get {
              path = "/healthz"
              port = "http"
            }
            period_seconds    = 2
            failure_threshold = 30
          }

          liveness_probe {
            http_get {
              path = "/healthz"
              port = "http"
            }
            period_seconds    = 10
            timeout_seconds   = 2
            failure_threshold = 3
          }

          readiness_probe {
            http_get {
              path = "/readyz"
              port = "http"
            }
            period_seconds    = 5
            timeout_seconds   = 2
            failure_threshold = 2
          }

          lifecycle {
            pre_stop {
              # Let endpoints drop the pod before the server stops accepting connections.
              exec {
                command = ["python", "-c", "import time; time.sleep(5)"]
              }
            }
          }

          resources {
            requests = each.value.requests
            limits   = each.value.limits
          }

          security_context {
            run_as_non_root            = true
            run_as_user                = 10001
            run_as_group               = 10001
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
            seccomp_profile {
              type = "RuntimeDefault"
            }
          }

          volume_mount {
            name       = "tmp"
            mount_path = "/tmp"
          }

          dynamic "volume_mount" {
            for_each = each.key == "proxy" ? [1] : []
            content {
              name       = "usage-spool"
              mount_path = "/var/lib/gateway/usage-spool"
            }
          }
        }

        volume {
          name = "tmp"
          empty_dir {
            size_limit = "256Mi"
          }
        }

        # The proxy's usage spool (events NATS could not take yet): survives container restarts,
        # not the pod's deletion (docs/operations.md, "Usage spool").
        dynamic "volume" {
          for_each = each.key == "proxy" ? [1] : []
          content {
            name = "usage-spool"
            empty_dir {
              size_limit = tostring(var.proxy_usage_spool_size)
            }
          }
        }
      }
    }
  }

  depends_on = [kubernetes_job_v1.migrate]
}

resource "kubernetes_service_v1" "service" {
  for_each = local.services

  metadata {
    name      = each.key
    namespace = local.namespace
    labels    = local.selector[each.key]
  }

  spec {
    type     = "ClusterIP"
    selector = local.selector[each.key]

    port {
      name        = "http"
      port        = each.value.http_port
      target_port = "http"
      protocol    = "TCP"
    }

    dynamic "port" {
      for_each = each.value.grpc_port == null ? [] : [each.value.grpc_port]
      content {
        name        = "grpc"
        port        = port.value
        target_port = "grpc"
        protocol    = "TCP"
      }
    }
  }
}

resource "kubernetes_pod_disruption_budget_v1" "service" {
  for_each = local.services

  metadata {
    name      = each.key
    namespace = local.namespace
    labels    = local.selector[each.key]
  }

  spec {
    max_unavailable = "1"
    selector {
      match_labels = local.selector[each.key]
    }
  }
}

resource "kubernetes_horizontal_pod_autoscaler_v2" "proxy" {
  metadata {
    name      = "proxy"
    namespace = local.namespace
    labels    = local.selector["proxy"]
  }

  spec {
    min_replicas = var.proxy_min_replicas
    max_replicas = var.proxy_max_replicas

    scale_target_ref {
      api_version = "apps/v1"
      kind        = "Deployment"
      name        = kubernetes_deployment_v1.service["proxy"].metadata[0].name
    }

    metric {
      type = "Resource"
      resource {
        name = "cpu"
        target {
          type                = "Utilization"
          average_utilization = var.proxy_target_cpu_utilization
        }
      }
    }

    behavior {
      scale_down {
        stabilization_window_seconds = 300
        select_policy                = "Max"
        policy {
          type           = "Pods"
          value          = 1
          period_seconds = 60
        }
      }
    }
  }
}
