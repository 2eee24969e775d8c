resource "kubernetes_namespace_v1" "gateway" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name   = var.namespace
    labels = local.part_of
  }
}

resource "kubernetes_secret_v1" "gateway" {
  metadata {
    name      = "gateway-secrets"
    namespace = local.namespace
    labels    = local.part_of
  }

  type = "Opaque"
  data = local.secret_data
}

resource "kubernetes_config_map_v1" "service" {
  for_each = local.service_config

  metadata {
    name      = "${each.key}-config"
    namespace = local.namespace
    labels    = local.selector[each.key]
  }

  data = each.value
}

resource "kubernetes_service_account_v1" "workload" {
  for_each = local.selector

  metadata {
    name      = each.key
    namespace = local.namespace
    labels    = each.value
  }

  automount_service_account_token = false
}

# NATS JetStream: a 3-node cluster from the official chart, with deploy/nats/values.yaml.
resource "helm_release" "nats" {
  count = var.install_nats ? 1 : 0

  name       = "nats"
  repository = "https://nats-io.github.io/k8s/helm/charts/"
  chart      = "nats"
  version    = var.nats_chart_version
  namespace  = local.namespace
  values     = [file(local.nats_values_file)]
  wait       = true
  timeout    = 600
}
