output "namespace" {
  description = "Namespace the gateway runs in."
  value       = local.namespace
}

output "proxy_url" {
  description = "In-cluster URL of the OpenAI-compatible proxy (put an Ingress or load balancer in front)."
  value       = "http://${kubernetes_service_v1.service["proxy"].metadata[0].name}.${local.namespace}.svc:8080"
}

output "control_url" {
  description = "In-cluster URL of the control API."
  value       = "http://${kubernetes_service_v1.service["control"].metadata[0].name}.${local.namespace}.svc:8081"
}

output "nats_url" {
  description = "The NATS endpoint the services use."
  value       = local.nats_url
}

output "service_endpoints" {
  description = "Every service's in-cluster host:port (HTTP; gRPC where the service has it)."
  value = {
    for name, svc in local.services : name => {
      http = "${name}.${local.namespace}.svc:${svc.http_port}"
      grpc = svc.grpc_port == null ? null : "${name}.${local.namespace}.svc:${svc.grpc_port}"
    }
  }
}

output "secret_name" {
  description = "The Secret holding the gateway's credentials."
  value       = kubernetes_secret_v1.gateway.metadata[0].name
}

output "nats_release" {
  description = "Helm release of NATS (null when install_nats is false)."
  value       = var.install_nats ? helm_release.nats[0].name : null
}
