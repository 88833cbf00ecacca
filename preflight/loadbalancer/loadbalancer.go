package loadbalancer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	ConfigValidated = "Configuration validated"
	HealthChecks    = "Health check settings correct"
	RoutingRules    = "Routing rules configured"
	TLSValid        = "TLS certificates valid"
	itemNumber      = 8
)

// KubeTimeout bounds the Kubernetes reads of one sub-item.
const KubeTimeout = 30 * time.Second

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	now func() time.Time
}

// WithClock replaces time.Now for the certificates' validity.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns checklist item 8 for tgt.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	it := &item{tgt: tgt, c: c}
	return checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		ConfigValidated: it.config,
		HealthChecks:    it.healthChecks,
		RoutingRules:    it.routing,
		TLSValid:        it.tlsValid,
	})
}

type item struct {
	tgt  *target.Target
	c    config
	kube kube.Lazy // the target's cluster, connected once
}

// noKube is what a target without a kube: section leaves unchecked.
const noKube = ": the load balancer's configuration cannot be read"

// ingress reads the target's Ingress.
func (it *item) ingress(ctx context.Context, cs kubernetes.Interface, ns string) (*networkingv1.Ingress, error) {
	name := it.tgt.Kube.Ingress
	if name == "" {
		return nil, fmt.Errorf("no Ingress named (kube.ingress in %s)", it.tgt.File)
	}
	ing, err := cs.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("ingress %s/%s does not exist (kube.ingress in %s)", ns, name, it.tgt.File)
	}
	if err != nil {
		return nil, fmt.Errorf("ingress %s/%s: %w", ns, name, err)
	}
	return ing, nil
}

func (it *item) config(ctx context.Context, r *flow.Recorder) error {
	cs, ns, err := it.kube.Of(it.tgt, noKube)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	var problems []string
	services := map[string]*corev1.Service{}
	getService := func(name string) (*corev1.Service, error) {
		if s, ok := services[name]; ok {
			return s, nil
		}
		s, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			s, err = nil, nil
		}
		if err == nil {
			services[name] = s
		}
		return s, err
	}

	// Every service: its Service selects its Deployment's pods, on a port
	// their container has.
	var consistent []string
	for _, s := range it.tgt.Services {
		svc, err := getService(s.Name)
		if err != nil {
			return err
		}
		if svc == nil {
			problems = append(problems, fmt.Sprintf("service %s/%s does not exist", ns, s.Name))
			continue
		}
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			problems = append(problems, fmt.Sprintf("deployment %s/%s: %v", ns, s.Name, err))
			continue
		}
		if p := serviceMatches(svc, d); len(p) > 0 {
			problems = append(problems, p...)
			continue
		}
		var ports []string
		for _, p := range svc.Spec.Ports {
			ports = append(ports, fmt.Sprintf("%d->%s", p.Port, p.TargetPort.String()))
		}
		r.Logf("service %s/%s (selector %s, ports %s) selects the pods of deployment %s", ns, svc.Name, labels.Set(svc.Spec.Selector), strings.Join(ports, ", "), d.Name)
		consistent = append(consistent, fmt.Sprintf("%s:%s", svc.Name, strings.Join(ports, ",")))
	}

	// The Ingress: every backend exists and exposes the port; every TLS
	// entry's secret is a TLS secret.
	ing, err := it.ingress(ctx, cs, ns)
	if err != nil {
		problems = append(problems, err.Error())
	} else {
		paths := 0
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				problems = append(problems, fmt.Sprintf("ingress %s/%s: rule for host %q has no paths", ns, ing.Name, rule.Host))
				continue
			}
			for _, p := range rule.HTTP.Paths {
				paths++
				where := fmt.Sprintf("ingress %s/%s host %s path %s", ns, ing.Name, orAny(rule.Host), p.Path)
				b := p.Backend.Service
				if b == nil {
					problems = append(problems, where+": no service backend")
					continue
				}
				svc, err := getService(b.Name)
				if err != nil {
					return err
				}
				switch {
				case svc == nil:
					problems = append(problems, fmt.Sprintf("%s routes to service %s, which does not exist", where, b.Name))
				case !exposes(svc, b.Port):
					problems = append(problems, fmt.Sprintf("%s routes to service %s port %s, which the service does not expose (its ports: %s)", where, b.Name, portString(b.Port), servicePorts(svc)))
				default:
					r.Logf("%s -> service %s port %s", where, b.Name, portString(b.Port))
				}
			}
		}
		if len(ing.Spec.TLS) == 0 {
			problems = append(problems, fmt.Sprintf("ingress %s/%s has no TLS section: the public hosts are served without TLS", ns, ing.Name))
		}
		var secrets []string
		for _, t := range ing.Spec.TLS {
			if p := it.tlsSecretProblem(ctx, cs, ns, t); p != "" {
				problems = append(problems, fmt.Sprintf("ingress %s/%s TLS entry for %s: %s", ns, ing.Name, strings.Join(t.Hosts, ", "), p))
				continue
			}
			secrets = append(secrets, t.SecretName)
		}
		if len(problems) == 0 {
			checklist.Evidence(r, "ingress %s/%s: %d rules, %d paths, every backend a Service that exposes the port; TLS secret(s) %s; Services %s select their Deployments' pods on their container ports",
				ns, ing.Name, len(ing.Spec.Rules), paths, strings.Join(secrets, ", "), strings.Join(consistent, " "))
			return nil
		}
	}
	return errors.New(strings.Join(problems, "; "))
}

// serviceMatches says how svc fails to select d's pods on their ports.
func serviceMatches(svc *corev1.Service, d *appsv1.Deployment) []string {
	where := fmt.Sprintf("service %s/%s", svc.Namespace, svc.Name)
	if len(svc.Spec.Selector) == 0 {
		return []string{where + " has no selector, so no endpoints are managed for it"}
	}
	podLabels := labels.Set(d.Spec.Template.Labels)
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		return []string{fmt.Sprintf("%s selects %s, but the pods of deployment %s are labelled %s", where, labels.Set(svc.Spec.Selector), d.Name, podLabels)}
	}
	var problems []string
	for _, p := range svc.Spec.Ports {
		tp := p.TargetPort
		if tp.Type == intstr.Int && tp.IntVal == 0 {
			tp = intstr.FromInt32(p.Port)
		}
		if !containerHasPort(d, tp) {
			problems = append(problems, fmt.Sprintf("%s port %d targets %s, which no container of deployment %s declares (%s)", where, p.Port, tp.String(), d.Name, containerPorts(d)))
		}
	}
	return problems
}

func containerHasPort(d *appsv1.Deployment, tp intstr.IntOrString) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, cp := range c.Ports {
			if (tp.Type == intstr.String && cp.Name == tp.StrVal) || (tp.Type == intstr.Int && cp.ContainerPort == tp.IntVal) {
				return true
			}
		}
	}
	return false
}

func containerPorts(d *appsv1.Deployment) string {
	var out []string
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, cp := range c.Ports {
			out = append(out, fmt.Sprintf("%s %s/%d", c.Name, orAny(cp.Name), cp.ContainerPort))
		}
	}
	if len(out) == 0 {
		return "no port declared"
	}
	return "ports: " + strings.Join(out, ", ")
}

func exposes(svc *corev1.Service, p networkingv1.ServiceBackendPort) bool {
	for _, sp := range svc.Spec.Ports {
		if (p.Name != "" && sp.Name == p.Name) || (p.Name == "" && sp.Port == p.Number) {
			return true
		}
	}
	return false
}

func servicePorts(svc *corev1.Service) string {
	var out []string
	for _, sp := range svc.Spec.Ports {
		out = append(out, fmt.Sprintf("%s/%d", orAny(sp.Name), sp.Port))
	}
	return strings.Join(out, ", ")
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprint(p.Number)
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// tlsSecretProblem says what is wrong with a TLS entry's secret as
// configuration (present, typed, holding a certificate and a key), or "".
func (it *item) tlsSecretProblem(ctx context.Context, cs kubernetes.Interface, ns string, t networkingv1.IngressTLS) string {
	if t.SecretName == "" {
		return "no secretName"
	}
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, t.SecretName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("secret %s does not exist", t.SecretName)
	case err != nil:
		return fmt.Sprintf("secret %s: %v", t.SecretName, err)
	case s.Type != corev1.SecretTypeTLS:
		return fmt.Sprintf("secret %s has type %q, not %s", t.SecretName, s.Type, corev1.SecretTypeTLS)
	case len(s.Data[corev1.TLSCertKey]) == 0 || len(s.Data[corev1.TLSPrivateKeyKey]) == 0:
		return fmt.Sprintf("secret %s lacks %s or %s", t.SecretName, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	return ""
}

func (it *item) healthChecks(ctx context.Context, r *flow.Recorder) error {
	cs, ns, err := it.kube.Of(it.tgt, noKube)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	var problems []error
	var ok []string
	for _, s := range it.tgt.Services {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			problems = append(problems, fmt.Errorf("deployment %s/%s: %w", ns, s.Name, err))
			continue
		}
		rules := kube.DefaultProbeRules
		rules.Path = s.Health
		if err := kube.CheckProbesWith(d, rules); err != nil {
			problems = append(problems, err)
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			rp := c.ReadinessProbe
			r.Logf("deployment %s/%s container %s: readiness GET %s every %ds, failure threshold %d; liveness GET %s", ns, s.Name, c.Name,
				rp.HTTPGet.Path, rp.PeriodSeconds, rp.FailureThreshold, c.LivenessProbe.HTTPGet.Path)
			ok = append(ok, fmt.Sprintf("%s GET %s every %ds x%d", s.Name, rp.HTTPGet.Path, rp.PeriodSeconds, rp.FailureThreshold))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: the load balancer would send traffic to pods that are not healthy, or drop healthy ones; fix the probes in the deployment manifests", errors.Join(problems...))
	}
	checklist.Evidence(r, "readiness and liveness probes on the health path, period %d..%ds, threshold %d..%d: %s",
		kube.DefaultProbeRules.MinPeriod, kube.DefaultProbeRules.MaxPeriod, kube.DefaultProbeRules.MinFailureThr, kube.DefaultProbeRules.MaxFailureThr, strings.Join(ok, ", "))
	return nil
}

func (it *item) routing(ctx context.Context, r *flow.Recorder) error {
	cs, ns, err := it.kube.Of(it.tgt, noKube)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	ing, err := it.ingress(ctx, cs, ns)
	if err != nil {
		return err
	}
	var problems []string
	var routes []string
	ruleHosts := map[string]bool{}
	var hosts []string
	for _, rule := range ing.Spec.Rules {
		ruleHosts[rule.Host] = true
		hosts = append(hosts, orAny(rule.Host))
	}
	for _, h := range it.tgt.Kube.TLSHosts {
		if !ruleHosts[h] {
			problems = append(problems, fmt.Sprintf("host %s: ingress %s/%s has no rule for it (rules for: %s): its requests are not routed to any service", h, ns, ing.Name, strings.Join(hosts, ", ")))
		}
	}
	checked := map[string]error{}
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			b := p.Backend.Service
			if b == nil {
				continue // Configuration validated names it
			}
			err, seen := checked[b.Name]
			if !seen {
				err = kube.CheckServiceEndpoints(ctx, cs, ns, b.Name)
				checked[b.Name] = err
			}
			route := fmt.Sprintf("%s%s -> %s", orAny(rule.Host), p.Path, b.Name)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v: nothing would answer", route, err))
				continue
			}
			routes = append(routes, route)
			r.Logf("%s: the service has ready endpoints", route)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	sort.Strings(routes)
	checklist.Evidence(r, "every host routed, every path to a Service with ready endpoints: %s", strings.Join(routes, ", "))
	return nil
}

func (it *item) tlsValid(ctx context.Context, r *flow.Recorder) error {
	k := it.tgt.Kube
	if k == nil || len(k.TLSHosts) == 0 {
		return fmt.Errorf("no public host to check (kube.tlsHosts in %s)", it.tgt.File)
	}
	var roots *x509.CertPool
	if k.TLSRootCA != "" {
		pem, err := os.ReadFile(k.TLSRootCA)
		if err != nil {
			return fmt.Errorf("kube.tlsRootCA: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("kube.tlsRootCA %s holds no PEM certificate", k.TLSRootCA)
		}
	}
	minDays := it.tgt.Thresholds.TLSMinDays
	now := it.c.now()
	var problems []string
	var ok []string
	for _, host := range k.TLSHosts {
		addr := k.TLSEndpoints[host]
		if addr == "" {
			addr = net.JoinHostPort(host, "443")
		}
		c, err := served(ctx, addr, host, it.tgt.HTTP.Timeout)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", host, err))
			continue
		}
		r.Logf("%s at %s: %s", host, addr, describe(c.leaf))
		if p := certProblem(c, host, roots, now, minDays); p != "" {
			problems = append(problems, fmt.Sprintf("%s (served at %s): %s", host, addr, p))
			continue
		}
		left := int(c.leaf.NotAfter.Sub(now).Hours() / 24)
		ok = append(ok, fmt.Sprintf("%s until %s (%d days)", host, c.leaf.NotAfter.UTC().Format("2006-01-02"), left))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	checklist.Evidence(r, "chain verified, name matches, at least %d days left: %s", minDays, strings.Join(ok, ", "))
	return nil
}

// chain is what a TLS server presented.
type chain struct {
	leaf          *x509.Certificate
	intermediates []*x509.Certificate
}

// served connects to addr with host as SNI and returns the certificates
// presented. Verification is done by certProblem, so that a failure says
// which check failed in words, not only Go's x509 error.
func served(ctx context.Context, addr, host string, timeout time.Duration) (chain, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: &tls.Config{
		ServerName: host, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // the chain, the name and the dates are verified by certProblem
	}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return chain{}, fmt.Errorf("TLS connection to %s failed: %w", addr, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return chain{}, fmt.Errorf("%s presented no certificate", addr)
	}
	return chain{leaf: certs[0], intermediates: certs[1:]}, nil
}

func describe(c *x509.Certificate) string {
	return fmt.Sprintf("certificate CN=%q names %v, issuer %q, valid %s to %s", c.Subject.CommonName, c.DNSNames, c.Issuer.CommonName,
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}

// certProblem says why the chain does not prove host for at least minDays
// more days, or "".
func certProblem(c chain, host string, roots *x509.CertPool, now time.Time, minDays int) string {
	leaf := c.leaf
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Sprintf("the certificate expired on %s (%d days ago; names %v): renew it", leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"),
			int(now.Sub(leaf.NotAfter).Hours()/24), leaf.DNSNames)
	case now.Before(leaf.NotBefore):
		return fmt.Sprintf("the certificate is not valid before %s", leaf.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return fmt.Sprintf("the certificate is issued for %v (CN %q), not %s: install the certificate of this host", leaf.DNSNames, leaf.Subject.CommonName, host)
	}
	inter := x509.NewCertPool()
	for _, ic := range c.intermediates {
		inter.AddCert(ic)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now}); err != nil {
		return fmt.Sprintf("the certificate chain does not verify (issuer %q): %v", leaf.Issuer.CommonName, err)
	}
	if left := leaf.NotAfter.Sub(now); left < time.Duration(minDays)*24*time.Hour {
		return fmt.Sprintf("the certificate expires on %s, in %d days: fewer than thresholds.tlsMinDays %d; renew it before deploying",
			leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"), int(left.Hours()/24), minDays)
	}
	return ""
}
