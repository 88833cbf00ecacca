package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
)

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
