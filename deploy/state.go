package deploy

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/evidence"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// State is what the steps of one run share.
type State struct {
	Target  *target.Target
	Version string
	RunDir  string
	Started time.Time

	// ReplicasBefore is each drained deployment's replica count before
	// Step 1.3, restored by Phase 3.
	ReplicasBefore map[string]int32
	// PodIPsBefore are the drained deployments' pod IPs before Step 1.3
	// (Step 1.4 looks for sessions from them).
	PodIPsBefore map[string][]string
	// Phase3Ended is when the last Phase 3 step succeeded: Phase 4 looks at
	// what happened after it.
	Phase3Ended time.Time

	migratorEnv []string
	kubeOnce    sync.Once
	kube        kubernetes.Interface
	kubeErr     error

	evidenceMu sync.Mutex
	evidence   map[string]*evidence.Gate // by gate: Evidence
}

// Kube is the target's cluster, connected on first use.
func (s *State) Kube() (kubernetes.Interface, error) {
	s.kubeOnce.Do(func() {
		if s.kube == nil {
			s.kube, s.kubeErr = kube.ForTarget(s.Target)
		}
	})
	return s.kube, s.kubeErr
}

// Namespace is the target's Kubernetes namespace.
func (s *State) Namespace() string {
	if s.Target.Kube == nil {
		return ""
	}
	return s.Target.Kube.Namespace
}

// Record is how a step reports: detail lines as they happen (indented,
// redacted), the journal's Data keys and the one-line result.
type Record struct {
	w      io.Writer
	redact func(string) string
	mu     sync.Mutex
	data   map[string]string
	result string
	// started journals a "started" entry with the data so far (nil: no
	// journal).
	started func(action string, data map[string]string) error
}

// Acting journals, before the step changes something, a "started" entry
// with what the step recorded so far (the image or the replica count it
// found): a run killed after this line is planned by the rollback as if
// the change happened. action says what is about to change. The error is
// the journal's: a change that cannot be journaled first must not be made.
func (r *Record) Acting(action string) error {
	r.mu.Lock()
	data := make(map[string]string, len(r.data))
	for k, v := range r.data {
		data[k] = v
	}
	fn := r.started
	r.mu.Unlock()
	if fn == nil {
		return nil
	}
	if err := fn(action, data); err != nil {
		return fmt.Errorf("journaling %q before acting: %w", action, err)
	}
	return nil
}

// Set records one journal Data key.
func (r *Record) Set(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.data == nil {
		r.data = map[string]string{}
	}
	r.data[key] = value
}

// Get returns a Data key set earlier by the step.
func (r *Record) Get(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data[key]
}

// Logf prints one detail line under the step.
func (r *Record) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range strings.Split(r.redact(fmt.Sprintf(format, args...)), "\n") {
		fmt.Fprintf(r.w, "      %s\n", line)
	}
}

// Resultf sets the step's one-line result, printed after ✅.
func (r *Record) Resultf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.result = r.redact(fmt.Sprintf(format, args...))
}

// Writer is an io.Writer whose lines are printed under the step, redacted
// (for progress reporters and child processes).
func (r *Record) Writer() io.Writer { return &lineWriter{r: r} }

type lineWriter struct {
	r   *Record
	mu  sync.Mutex
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		w.r.Logf("%s", line)
	}
	return len(p), nil
}
