// Package loadbalancer is checklist item 8 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 8. Load Balancer Check
//	      - Configuration validated
//	      - Health check settings correct
//	      - Routing rules configured
//	      - TLS certificates valid
//
// Configuration validated: the Ingress (kube.ingress) and every service's
// Service exist and agree: each Service selects the pods of its Deployment
// and its target port is a port of their container; every path of the
// Ingress routes to a Service that exists and exposes the port; every TLS
// entry names a kubernetes.io/tls secret that exists with a certificate and
// a key. (Whether hosts are routed and certificates valid are the next
// sub-items' business.)
//
// Health check settings correct: every Deployment's containers have a
// readiness and a liveness probe, each an HTTP GET of the service's health
// path (services[].health, /health), every 1 to 60 seconds, failing after
// 1 to 10 failures (kube.CheckProbes).
//
// Routing rules configured: every public host (kube.tlsHosts) has a rule,
// and every path of every rule routes to a Service with at least one ready
// endpoint: traffic sent there reaches a pod.
//
// TLS certificates valid: for every public host, a TLS connection to the
// load balancer (kube.tlsEndpoints[host], by default <host>:443) with the
// host as SNI gets a certificate that is valid now, is issued for the host,
// chains to a trusted root (kube.tlsRootCA, else the system's) and stays
// valid at least thresholds.tlsMinDays more days (14). Locally a fixture
// serves the Ingress's TLS secret, signed by a test CA, on 127.0.0.1.
//
// It needs: kube (kubeconfig, namespace, ingress, tlsHosts), services,
// thresholds.tlsMinDays. When it fails, the message names the object (the
// Service and its selector, the Ingress path and its backend, the
// deployment and its probe) or the host, the address connected to and what
// the certificate says (its names, its expiry, its issuer).
package loadbalancer
