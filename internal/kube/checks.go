package kube

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// CheckSecretKeys checks that Secret ns/secret has every key, non-empty
// ("Production secrets ready"). It reads key names and lengths only; values
// never reach the error (*SecretKeysError) or any log.
func CheckSecretKeys(ctx context.Context, cs kubernetes.Interface, ns, secret string, keys []string) error {
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, secret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &SecretKeysError{Namespace: ns, Secret: secret, Missing: slices.Clone(keys), NotFound: true}
	}
	if err != nil {
		return fmt.Errorf("secret %s/%s: %w", ns, secret, err)
	}
	e := &SecretKeysError{Namespace: ns, Secret: secret}
	for k := range s.Data {
		e.Present = append(e.Present, k)
	}
	sort.Strings(e.Present)
	for _, k := range keys {
		v, ok := s.Data[k]
		switch {
		case !ok:
			e.Missing = append(e.Missing, k)
		case len(v) == 0:
			e.Empty = append(e.Empty, k)
		}
	}
	if len(e.Missing)+len(e.Empty) > 0 {
		return e
	}
	return nil
}

// CheckServiceEndpoints checks that Service ns/name exists, has a selector
// and has at least one ready endpoint in its EndpointSlices ("All services
// healthy" as the load balancer sees them). It returns *EndpointsError.
func CheckServiceEndpoints(ctx context.Context, cs kubernetes.Interface, ns, name string) error {
	e, err := endpointsState(ctx, cs, ns, name)
	if err != nil {
		return err
	}
	if e != nil {
		return e
	}
	return nil
}

// WaitServiceEndpoints waits until CheckServiceEndpoints passes, checking
// again on every change of the Service's EndpointSlices (they lag a rollout
// slightly), followed with client-go's watchtools.UntilWithSync. On ctx end
// it returns a *WaitError whose Seen is the last check failure.
func WaitServiceEndpoints(ctx context.Context, cs kubernetes.Interface, ns, name string) error {
	what := fmt.Sprintf("a ready endpoint of service %s/%s", ns, name)
	last := "nothing yet"
	check := func() (bool, error) {
		e, err := endpointsState(ctx, cs, ns, name)
		switch {
		case err != nil && ctx.Err() != nil:
			return false, nil // reported as the timeout below
		case err != nil:
			return false, err
		case e != nil:
			last = e.Error()
			return false, nil
		}
		return true, nil
	}
	sel := discoveryv1.LabelServiceName + "=" + name
	eps := cs.DiscoveryV1().EndpointSlices(ns)
	lw := selected(cs, eps.List, eps.Watch, "", sel)
	_, err := watchtools.UntilWithSync(ctx, lw, &discoveryv1.EndpointSlice{},
		func(cache.Store) (bool, error) { return check() },
		func(watch.Event) (bool, error) { return check() })
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &WaitError{What: what, Seen: last, Err: ctx.Err()}
	}
	return fmt.Errorf("wait for %s: %w", what, err)
}

// endpointsState returns nil when the service has a ready endpoint, else
// the reason.
func endpointsState(ctx context.Context, cs kubernetes.Interface, ns, name string) (*EndpointsError, error) {
	list, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return nil, fmt.Errorf("endpointslices of service %s/%s: %w", ns, name, err)
	}
	svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &EndpointsError{Namespace: ns, Service: name, Reason: "service not found"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", ns, name, err)
	}
	if len(svc.Spec.Selector) == 0 {
		return &EndpointsError{Namespace: ns, Service: name, Reason: "service has no selector, so no managed endpoints"}, nil
	}
	e := &EndpointsError{Namespace: ns, Service: name, Slices: len(list.Items)}
	for _, s := range list.Items {
		for _, ep := range s.Endpoints {
			e.Total++
			// API semantics: a nil ready condition means ready.
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				e.Ready++
			}
		}
	}
	if e.Ready == 0 {
		return e, nil
	}
	return nil, nil
}

// CheckIngress checks Ingress ns/name for each host ("Routing rules
// configured", "TLS certificates valid"): a rule for the host whose paths
// route to Services that exist and expose the port; a TLS entry covering
// the host whose secret exists, is kubernetes.io/tls, and holds a
// certificate valid now for that host. It returns *IngressError listing
// every problem by host.
func CheckIngress(ctx context.Context, cs kubernetes.Interface, ns, name string, hosts []string) error {
	ing, err := cs.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &IngressError{Namespace: ns, Name: name, Problems: []HostProblem{{Problem: "ingress not found"}}}
	}
	if err != nil {
		return fmt.Errorf("ingress %s/%s: %w", ns, name, err)
	}
	e := &IngressError{Namespace: ns, Name: name}
	add := func(host, format string, args ...any) {
		e.Problems = append(e.Problems, HostProblem{Host: host, Problem: fmt.Sprintf(format, args...)})
	}
	services := map[string]*corev1.Service{}
	getService := func(n string) (*corev1.Service, error) {
		if s, ok := services[n]; ok {
			return s, nil
		}
		s, err := cs.CoreV1().Services(ns).Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			s, err = nil, nil
		}
		if err == nil {
			services[n] = s
		}
		return s, err
	}
	for _, host := range hosts {
		var paths []networkingv1.HTTPIngressPath
		for _, r := range ing.Spec.Rules {
			if r.Host == host && r.HTTP != nil {
				paths = append(paths, r.HTTP.Paths...)
			}
		}
		if len(paths) == 0 {
			add(host, "expected a rule routing the host to a service, seen none (rules for: %s)", ruleHosts(ing))
		}
		for _, p := range paths {
			b := p.Backend.Service
			if b == nil {
				add(host, "path %q: expected a service backend, seen none", p.Path)
				continue
			}
			svc, err := getService(b.Name)
			if err != nil {
				return fmt.Errorf("ingress %s/%s: service %s: %w", ns, name, b.Name, err)
			}
			if svc == nil {
				add(host, "path %q routes to service %s, which does not exist", p.Path, b.Name)
				continue
			}
			if !servicePortExists(svc, b.Port) {
				add(host, "path %q routes to service %s port %s, which the service does not expose", p.Path, b.Name, portString(b.Port))
			}
		}
		tlsEntry := -1
		for i, t := range ing.Spec.TLS {
			if slices.ContainsFunc(t.Hosts, func(h string) bool { return hostMatches(h, host) }) {
				tlsEntry = i
				break
			}
		}
		if tlsEntry < 0 {
			add(host, "expected a TLS section covering the host, seen none (TLS hosts: %s)", tlsHosts(ing))
			continue
		}
		if msg, err := checkTLSSecret(ctx, cs, ns, ing.Spec.TLS[tlsEntry].SecretName, host); err != nil {
			return fmt.Errorf("ingress %s/%s: %w", ns, name, err)
		} else if msg != "" {
			add(host, "%s", msg)
		}
	}
	if len(e.Problems) > 0 {
		return e
	}
	return nil
}

// checkTLSSecret returns a problem description, or "" when the secret is a
// kubernetes.io/tls secret whose certificate is valid now for host.
func checkTLSSecret(ctx context.Context, cs kubernetes.Interface, ns, secret, host string) (string, error) {
	if secret == "" {
		return "TLS section has no secretName", nil
	}
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, secret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("TLS secret %s does not exist", secret), nil
	}
	if err != nil {
		return "", fmt.Errorf("TLS secret %s: %w", secret, err)
	}
	if s.Type != corev1.SecretTypeTLS {
		return fmt.Sprintf("TLS secret %s: expected type %s, seen %q", secret, corev1.SecretTypeTLS, s.Type), nil
	}
	block, _ := pem.Decode(s.Data[corev1.TLSCertKey])
	if block == nil {
		return fmt.Sprintf("TLS secret %s: %s holds no PEM certificate", secret, corev1.TLSCertKey), nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Sprintf("TLS secret %s: certificate does not parse: %v", secret, err), nil
	}
	if err := cert.VerifyHostname(host); err != nil {
		return fmt.Sprintf("TLS secret %s: certificate does not cover the host (names %v)", secret, cert.DNSNames), nil
	}
	now := time.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Sprintf("TLS secret %s: certificate valid %s to %s, not now", secret,
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)), nil
	}
	return "", nil
}

func hostMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	if strings.HasPrefix(pattern, "*.") {
		ok, _ := path.Match("*"+pattern[1:], host)
		return ok && strings.Count(host, ".") == strings.Count(pattern, ".")
	}
	return false
}

func servicePortExists(svc *corev1.Service, p networkingv1.ServiceBackendPort) bool {
	for _, sp := range svc.Spec.Ports {
		if (p.Name != "" && sp.Name == p.Name) || (p.Name == "" && sp.Port == p.Number) {
			return true
		}
	}
	return false
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprint(p.Number)
}

func ruleHosts(ing *networkingv1.Ingress) string {
	var hs []string
	for _, r := range ing.Spec.Rules {
		hs = append(hs, r.Host)
	}
	return strings.Join(hs, ", ")
}

func tlsHosts(ing *networkingv1.Ingress) string {
	var hs []string
	for _, t := range ing.Spec.TLS {
		hs = append(hs, t.Hosts...)
	}
	if len(hs) == 0 {
		return "none"
	}
	return strings.Join(hs, ", ")
}

// ProbeRules are the health-check settings CheckProbes accepts.
type ProbeRules struct {
	Path                         string // HTTP GET path of both probes
	MinPeriod, MaxPeriod         int32  // periodSeconds bounds
	MinFailureThr, MaxFailureThr int32  // failureThreshold bounds
}

// DefaultProbeRules: GET /health, period 1..60 s, failureThreshold 1..10.
var DefaultProbeRules = ProbeRules{Path: "/health", MinPeriod: 1, MaxPeriod: 60, MinFailureThr: 1, MaxFailureThr: 10}

// CheckProbes checks the deployment's containers against DefaultProbeRules
// ("Health check settings correct"): a readiness and a liveness probe, each
// an HTTP GET of /health, periodSeconds 1..60, failureThreshold 1..10 (unset
// fields count as Kubernetes' defaults, 10 and 3). It returns *ProbeError.
func CheckProbes(d *appsv1.Deployment) error { return CheckProbesWith(d, DefaultProbeRules) }

// CheckProbesWith is CheckProbes with other rules.
func CheckProbesWith(d *appsv1.Deployment, r ProbeRules) error {
	var problems []string
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, pr := range []struct {
			kind  string
			probe *corev1.Probe
		}{{"readinessProbe", c.ReadinessProbe}, {"livenessProbe", c.LivenessProbe}} {
			where := fmt.Sprintf("container %s %s", c.Name, pr.kind)
			p := pr.probe
			if p == nil {
				problems = append(problems, where+": missing")
				continue
			}
			if p.HTTPGet == nil {
				problems = append(problems, where+": expected an httpGet probe, seen "+probeKind(p))
			} else if p.HTTPGet.Path != r.Path {
				problems = append(problems, fmt.Sprintf("%s: path %q, expected %q", where, p.HTTPGet.Path, r.Path))
			}
			period := p.PeriodSeconds
			if period == 0 {
				period = 10
			}
			if period < r.MinPeriod || period > r.MaxPeriod {
				problems = append(problems, fmt.Sprintf("%s: periodSeconds %d, expected %d..%d", where, period, r.MinPeriod, r.MaxPeriod))
			}
			thr := p.FailureThreshold
			if thr == 0 {
				thr = 3
			}
			if thr < r.MinFailureThr || thr > r.MaxFailureThr {
				problems = append(problems, fmt.Sprintf("%s: failureThreshold %d, expected %d..%d", where, thr, r.MinFailureThr, r.MaxFailureThr))
			}
		}
	}
	if len(problems) > 0 {
		return &ProbeError{Namespace: d.Namespace, Deployment: d.Name, Problems: problems}
	}
	return nil
}

func probeKind(p *corev1.Probe) string {
	switch {
	case p.Exec != nil:
		return "exec"
	case p.TCPSocket != nil:
		return "tcpSocket"
	case p.GRPC != nil:
		return "grpc"
	}
	return "no handler"
}
