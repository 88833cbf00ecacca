package kube

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Restart is a container that restarted: its pod, its restart count, and
// how its previous container ended (the pod status's lastState).
type Restart struct {
	Pod, Container string
	Count          int32
	Reason         string // Error, OOMKilled, ... ("" when the status does not say)
	ExitCode       int32
	Message        string
	Finished       time.Time // when the previous container ended; zero when unknown
	// Previous is the end of the previous container's log (`kubectl logs
	// --previous`), and Line the line that says why it ended: its panic,
	// else its last ERROR line, else its last line.
	Previous []LogLine
	Line     string
	// LogErr is why the previous log could not be read.
	LogErr error
}

func (r Restart) String() string {
	s := fmt.Sprintf("pod %s container %s restarted %d time(s)", r.Pod, r.Container, r.Count)
	var how []string
	if r.Reason != "" {
		how = append(how, r.Reason)
	}
	if r.Reason != "" || r.ExitCode != 0 {
		how = append(how, fmt.Sprintf("exit code %d", r.ExitCode))
	}
	if !r.Finished.IsZero() {
		how = append(how, "at "+r.Finished.UTC().Format("15:04:05")+" UTC")
	}
	if r.Message != "" {
		how = append(how, truncate(r.Message, 160))
	}
	if len(how) > 0 {
		s += " (last termination: " + strings.Join(how, ", ") + ")"
	}
	switch {
	case r.Line != "":
		s += "; previous container's log: " + truncate(r.Line, 240)
	case r.LogErr != nil:
		s += "; previous container's log unreadable: " + r.LogErr.Error()
	}
	return s
}

// PreviousTail is how many lines of a previous container's log are read.
const PreviousTail = 200

// Restarts lists the containers of the pods matching selector in ns that
// restarted since since: their last termination ended at or after it (a
// restart whose end the status does not give counts: it cannot be shown
// to be older). Zero since: every restart. For each, the previous
// container's log is read (`kubectl logs --previous --tail`) and the line
// that says why it ended is picked (a panic, else the last ERROR line,
// else the last line).
func Restarts(ctx context.Context, cs kubernetes.Interface, ns, selector string, since time.Time) ([]Restart, error) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("restart counts of pods %q in %s: %w", selector, ns, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	var out []Restart
	for _, p := range pods.Items {
		for _, st := range p.Status.ContainerStatuses {
			if st.RestartCount == 0 {
				continue
			}
			r := Restart{Pod: p.Name, Container: st.Name, Count: st.RestartCount}
			if t := st.LastTerminationState.Terminated; t != nil {
				r.Reason, r.ExitCode, r.Message, r.Finished = t.Reason, t.ExitCode, t.Message, t.FinishedAt.Time
			}
			if !since.IsZero() && !r.Finished.IsZero() && r.Finished.Before(since) {
				continue
			}
			r.Previous, r.LogErr = containerLog(ctx, cs, ns, p.Name, st.Name, LogOptions{TailLines: PreviousTail, previous: true})
			r.Line = why(r.Previous)
			out = append(out, r)
		}
	}
	return out, nil
}

var panicLine = regexp.MustCompile(`^(panic: |fatal error: )|"level":"(panic|fatal)"|\bpanic: `)

// why is the line of a previous container's log that says why it ended.
func why(lines []LogLine) string {
	for _, l := range lines {
		if panicLine.MatchString(l.Text) {
			return fmt.Sprintf("line %d: %s", l.Number, l.Text)
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if IsErrorLine(lines[i].Text) {
			return fmt.Sprintf("line %d: %s", lines[i].Number, lines[i].Text)
		}
	}
	if n := len(lines); n > 0 {
		return fmt.Sprintf("line %d (last): %s", lines[n-1].Number, lines[n-1].Text)
	}
	return ""
}

// LastTermination is a pod status's lastState for tests and fixtures.
func LastTermination(reason string, exitCode int32, at time.Time) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode,
		StartedAt: metav1.NewTime(at.Add(-time.Minute)), FinishedAt: metav1.NewTime(at)}}
}
