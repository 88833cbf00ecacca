package kube

import (
	"fmt"
	"strings"
	"time"
)

// RolloutError is a rollout that failed (ProgressDeadlineExceeded), was
// deleted, or had not finished when the context ended.
type RolloutError struct {
	Namespace, Name string
	// Reason: "ProgressDeadlineExceeded", "Deleted" or "Timeout".
	Reason string
	// Message: the Progressing condition's message, or the context error.
	Message string
	// Awaited: what a finished rollout looks like for this deployment.
	Awaited string
	// Seen: the last status seen, kubectl-style plus the raw counters.
	Seen    string
	Elapsed time.Duration
	// Pods: what the newest ReplicaSet's pods were doing (waiting reasons).
	Pods []PodProblem
	// Err is the context error for a timeout.
	Err error
}

func (e *RolloutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deployment %s/%s: rollout ", e.Namespace, e.Name)
	switch e.Reason {
	case "Timeout":
		fmt.Fprintf(&b, "not finished after %s (%s)", e.Elapsed.Round(10*time.Millisecond), e.Message)
	default:
		fmt.Fprintf(&b, "failed after %s: Progressing condition reason %s: %s", e.Elapsed.Round(10*time.Millisecond), e.Reason, e.Message)
	}
	fmt.Fprintf(&b, "\n  expected: %s\n  seen: %s", e.Awaited, e.Seen)
	if len(e.Pods) > 0 {
		b.WriteString("\n  pods of the newest ReplicaSet:")
		for _, p := range e.Pods {
			b.WriteString("\n    ")
			b.WriteString(p.String())
		}
	}
	return b.String()
}

func (e *RolloutError) Unwrap() error { return e.Err }

// WaitReasons returns the distinct waiting/termination reasons of the pods,
// e.g. ["CrashLoopBackOff"].
func (e *RolloutError) WaitReasons() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range e.Pods {
		if p.Reason != "" && !seen[p.Reason] {
			seen[p.Reason] = true
			out = append(out, p.Reason)
		}
	}
	return out
}

// PodProblem says why one container of a pod is not ready.
type PodProblem struct {
	Pod, Container string
	Phase          string
	State          string // waiting, running, terminated, or "" before any status
	Reason         string // e.g. CrashLoopBackOff, ErrImagePull, ContainersNotReady
	Message        string
	Restarts       int32
}

func (p PodProblem) String() string {
	s := fmt.Sprintf("pod %s (%s)", p.Pod, p.Phase)
	if p.Container != "" {
		s += fmt.Sprintf(" container %s %s", p.Container, p.State)
	}
	if p.Reason != "" {
		s += " " + p.Reason
	}
	if p.Message != "" {
		s += ": " + truncate(p.Message, 200)
	}
	if p.Restarts > 0 {
		s += fmt.Sprintf(" (restarts %d)", p.Restarts)
	}
	return s
}

// WaitError is a wait that ended with its context before its condition held.
type WaitError struct {
	What string // what was awaited, with identity
	Seen string // the last state seen
	Err  error  // the context error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("timed out waiting for %s (%v); last seen: %s", e.What, e.Err, e.Seen)
}

func (e *WaitError) Unwrap() error { return e.Err }

// ContainerNotFoundError: SetImage named a container the deployment lacks.
type ContainerNotFoundError struct {
	Namespace, Deployment, Container string
	Available                        []string
}

func (e *ContainerNotFoundError) Error() string {
	return fmt.Sprintf("deployment %s/%s: no container %q (containers: %s)",
		e.Namespace, e.Deployment, e.Container, strings.Join(e.Available, ", "))
}

// NoPreviousRevisionError: nothing to roll back to.
type NoPreviousRevisionError struct {
	Namespace, Name string
	Current         int64
	Revisions       []int64 // revisions found among the deployment's ReplicaSets
}

func (e *NoPreviousRevisionError) Error() string {
	return fmt.Sprintf("deployment %s/%s: expected a revision before the current %d, seen ReplicaSet revisions %v",
		e.Namespace, e.Name, e.Current, e.Revisions)
}

// SecretKeysError lists missing or empty keys of a Secret, by name only.
type SecretKeysError struct {
	Namespace, Secret string
	Missing, Empty    []string
	Present           []string // key names present (never values)
	NotFound          bool     // the Secret itself does not exist
}

func (e *SecretKeysError) Error() string {
	if e.NotFound {
		return fmt.Sprintf("secret %s/%s: not found (expected keys %s)", e.Namespace, e.Secret, strings.Join(e.Missing, ", "))
	}
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing keys "+strings.Join(e.Missing, ", "))
	}
	if len(e.Empty) > 0 {
		parts = append(parts, "empty keys "+strings.Join(e.Empty, ", "))
	}
	return fmt.Sprintf("secret %s/%s: %s (keys present: %s)", e.Namespace, e.Secret, strings.Join(parts, "; "), strings.Join(e.Present, ", "))
}

// EndpointsError: a Service without ready endpoints.
type EndpointsError struct {
	Namespace, Service string
	Ready, Total       int // endpoints over all EndpointSlices
	Slices             int
	Reason             string // set when the Service is missing or has no selector
}

func (e *EndpointsError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("service %s/%s: %s", e.Namespace, e.Service, e.Reason)
	}
	return fmt.Sprintf("service %s/%s: expected at least 1 ready endpoint, seen %d ready of %d endpoints in %d EndpointSlices",
		e.Namespace, e.Service, e.Ready, e.Total, e.Slices)
}

// IngressError lists what is wrong for each host of an Ingress.
type IngressError struct {
	Namespace, Name string
	Problems        []HostProblem
}

// HostProblem is one problem for one host ("" for the Ingress as a whole).
type HostProblem struct{ Host, Problem string }

func (e *IngressError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ingress %s/%s: %d problem(s)", e.Namespace, e.Name, len(e.Problems))
	for _, p := range e.Problems {
		if p.Host == "" {
			fmt.Fprintf(&b, "\n  %s", p.Problem)
		} else {
			fmt.Fprintf(&b, "\n  host %s: %s", p.Host, p.Problem)
		}
	}
	return b.String()
}

// Hosts returns the hosts that have a problem.
func (e *IngressError) Hosts() []string {
	var out []string
	for _, p := range e.Problems {
		if p.Host != "" && (len(out) == 0 || out[len(out)-1] != p.Host) {
			out = append(out, p.Host)
		}
	}
	return out
}

// ProbeError lists containers whose health probes break the rules.
type ProbeError struct {
	Namespace, Deployment string
	Problems              []string // "container backend-core readinessProbe: path "/healthz", expected "/health""
}

func (e *ProbeError) Error() string {
	return fmt.Sprintf("deployment %s/%s: health check settings:\n  %s", e.Namespace, e.Deployment, strings.Join(e.Problems, "\n  "))
}

// NoPodsError: a selector matched no pod.
type NoPodsError struct{ Namespace, Selector string }

func (e *NoPodsError) Error() string {
	return fmt.Sprintf("namespace %s: expected pods matching %q, seen none", e.Namespace, e.Selector)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
