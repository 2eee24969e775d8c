# The same policies as deploy/k8s/base: deny everything, then admit what the design needs.

resource "kubernetes_network_policy_v1" "default_deny" {
  metadata {
    name      = "default-deny"
    namespace = local.namespace
    labels    = local.part_of
  }

  spec {
    pod_selector {}
    policy_types = ["Ingress", "Egress"]
  }
}

resource "kubernetes_network_policy_v1" "allow_dns" {
  metadata {
    name      = "allow-dns"
    namespace = local.namespace
    labels    = local.part_of
  }

  spec {
    pod_selector {}
    policy_types = ["Egress"]

    egress {
      to {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = "kube-system" }
        }
        pod_selector {
          match_labels = { "k8s-app" = "kube-dns" }
        }
      }
      ports {
        port     = "53"
        protocol = "UDP"
      }
      ports {
        port     = "53"
        protocol = "TCP"
      }
    }
  }
}

# Each workload: egress to its datastores by port, HTTPS to providers for proxy and health.
resource "kubernetes_network_policy_v1" "egress" {
  for_each = local.datastore_egress_ports

  metadata {
    name      = "${each.key}-egress"
    namespace = local.namespace
    labels    = local.selector[each.key]
  }

  spec {
    pod_selector {
      match_labels = local.selector[each.key]
    }
    policy_types = ["Egress"]

    dynamic "egress" {
      for_each = each.value
      content {
        ports {
          port     = tostring(egress.value)
          protocol = "TCP"
        }
      }
    }

    dynamic "egress" {
      for_each = contains(local.https_egress, each.key) ? [443] : []
      content {
        to {
          ip_block {
            cidr = "0.0.0.0/0"
          }
        }
        ports {
          port     = tostring(egress.value)
          protocol = "TCP"
        }
      }
    }
  }
}

# Public entry points: the proxy (clients) and control (admins, and the proxy).
resource "kubernetes_network_policy_v1" "public_ingress" {
  for_each = { proxy = 8080, control = 8081 }

  metadata {
    name      = "${each.key}-ingress"
    namespace = local.namespace
    labels    = local.selector[each.key]
  }

  spec {
    pod_selector {
      match_labels = local.selector[each.key]
    }
    policy_types = ["Ingress"]

    ingress {
      ports {
        port     = tostring(each.value)
        protocol = "TCP"
      }
    }
  }
}

# gRPC from control only; HTTP (probes, /metrics) from inside the cluster.
resource "kubernetes_network_policy_v1" "grpc_ingress" {
  for_each = { accounting = { grpc = 50051, http = 8082 }, health = { grpc = 50052, http = 8083 } }

  metadata {
    name      = "${each.key}-ingress"
    namespace = local.namespace
    labels    = local.selector[each.key]
  }

  spec {
    pod_selector {
      match_labels = local.selector[each.key]
    }
    policy_types = ["Ingress"]

    ingress {
      from {
        pod_selector {
          match_labels = local.selector["control"]
        }
      }
      ports {
        port     = tostring(each.value.grpc)
        protocol = "TCP"
      }
    }

    ingress {
      from {
        namespace_selector {}
      }
      ports {
        port     = tostring(each.value.http)
        protocol = "TCP"
      }
    }
  }
}

resource "kubernetes_network_policy_v1" "control_grpc_egress" {
  metadata {
    name      = "control-grpc-egress"
    namespace = local.namespace
    labels    = local.selector["control"]
  }

  spec {
    pod_selector {
      match_labels = local.selector["control"]
    }
    policy_types = ["Egress"]

    egress {
      to {
        pod_selector {
          match_labels = local.selector["accounting"]
        }
      }
      ports {
        port     = "50051"
        protocol = "TCP"
      }
    }

    egress {
      to {
        pod_selector {
          match_labels = local.selector["health"]
        }
      }
      ports {
        port     = "50052"
        protocol = "TCP"
      }
    }
  }
}

resource "kubernetes_network_policy_v1" "proxy_to_control" {
  metadata {
    name      = "proxy-to-control"
    namespace = local.namespace
    labels    = local.selector["proxy"]
  }

  spec {
    pod_selector {
      match_labels = local.selector["proxy"]
    }
    policy_types = ["Egress"]

    egress {
      to {
        pod_selector {
          match_labels = local.selector["control"]
        }
      }
      ports {
        port     = "8081"
        protocol = "TCP"
      }
    }
  }
}

# NATS servers installed by this module: clients from the gateway, routes between servers.
resource "kubernetes_network_policy_v1" "nats" {
  count = var.install_nats ? 1 : 0

  metadata {
    name      = "nats"
    namespace = local.namespace
    labels    = local.part_of
  }

  spec {
    pod_selector {
      match_labels = { "app.kubernetes.io/name" = "nats" }
    }
    policy_types = ["Ingress", "Egress"]

    ingress {
      from {
        pod_selector {
          match_labels = local.part_of
        }
      }
      ports {
        port     = "4222"
        protocol = "TCP"
      }
    }

    ingress {
      from {
        pod_selector {
          match_labels = { "app.kubernetes.io/name" = "nats" }
        }
      }
      ports {
        port     = "6222"
        protocol = "TCP"
      }
    }

    ingress {
      from {
        namespace_selector {}
      }
      ports {
        port     = "8222"
        protocol = "TCP"
      }
      ports {
        port     = "7777"
        protocol = "TCP"
      }
    }

    egress {
      to {
        pod_selector {
          match_labels = { "app.kubernetes.io/name" = "nats" }
        }
      }
      ports {
        port     = "6222"
        protocol = "TCP"
      }
    }
  }
}
