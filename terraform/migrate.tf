# Control's schema migrations, applied before the Deployments roll out. A Job's pod template is
# immutable, so a new control image replaces the Job (and runs the migrations again; they are
# idempotent). Accounting has no `migrate` command yet: it migrates itself at startup under a
# Postgres advisory lock.
resource "kubernetes_job_v1" "migrate" {
  metadata {
    name      = "migrate"
    namespace = local.namespace
    labels    = merge(local.selector["migrate"], { "app.kubernetes.io/component" = "migrations" })
  }

  wait_for_completion = true

  timeouts {
    create = "15m"
    update = "15m"
  }

  spec {
    backoff_limit           = 4
    active_deadline_seconds = 900

    template {
      metadata {
        labels = merge(local.selector["migrate"], { "app.kubernetes.io/component" = "migrations" })
      }

      spec {
        restart_policy                  = "Never"
        service_account_name            = kubernetes_service_account_v1.workload["migrate"].metadata[0].name
        automount_service_account_token = false
        enable_service_links            = false

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
          name              = "migrate"
          image             = var.images["control"]
          image_pull_policy = var.image_pull_policy
          command           = ["python", "-m", "gateway_control", "migrate", "--wait", "120"]

          # Control validates all of its settings before any command runs.
          env_from {
            config_map_ref {
              name = kubernetes_config_map_v1.service["control"].metadata[0].name
            }
          }

          dynamic "env" {
            for_each = setsubtract(local.service_secrets["control"], local.optional_secrets)
            content {
              name = env.value
              value_from {
                secret_key_ref {
                  name = kubernetes_secret_v1.gateway.metadata[0].name
                  key  = env.value
                }
              }
            }
          }

          resources {
            requests = { cpu = "100m", memory = "128Mi" }
            limits   = { cpu = "500m", memory = "256Mi" }
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
        }

        volume {
          name = "tmp"
          empty_dir {
            size_limit = "64Mi"
          }
        }
      }
    }
  }
}
