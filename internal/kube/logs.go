package kube

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// LogOptions selects which log lines PodLogs reads. Zero values mean: every
// container of each pod, the whole log.
type LogOptions struct {
	Container string        // only this container
	Since     time.Duration // only lines newer than this (kubectl logs --since)
	TailLines int64         // only the last N lines per container (--tail)
	previous  bool          // the previous container's log (--previous): Restarts
}

// LogLine is one line of one container's log.
type LogLine struct {
	Pod, Container string
	Number         int // 1-based, within what was read for that container
	Text           string
}

// PodLogs reads the logs of every pod matching selector in ns through the
// API (`kubectl logs -l <selector>`), pods in name order. It returns
// *NoPodsError when nothing matches: a scan of no logs proves nothing.
// Errors for single containers are joined and returned with the lines read.
func PodLogs(ctx context.Context, cs kubernetes.Interface, ns, selector string, opts LogOptions) ([]LogLine, error) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("logs of pods %q in %s: %w", selector, ns, err)
	}
	if len(pods.Items) == 0 {
		return nil, &NoPodsError{Namespace: ns, Selector: selector}
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	var lines []LogLine
	var errs []error
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			if opts.Container != "" && c.Name != opts.Container {
				continue
			}
			got, err := containerLog(ctx, cs, ns, p.Name, c.Name, opts)
			lines = append(lines, got...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return lines, errors.Join(errs...)
}

func containerLog(ctx context.Context, cs kubernetes.Interface, ns, pod, container string, opts LogOptions) ([]LogLine, error) {
	lo := &corev1.PodLogOptions{Container: container, Previous: opts.previous}
	if opts.Since > 0 {
		s := int64(opts.Since / time.Second)
		lo.SinceSeconds = &s
	}
	if opts.TailLines > 0 {
		lo.TailLines = &opts.TailLines
	}
	rc, err := cs.CoreV1().Pods(ns).GetLogs(pod, lo).Stream(ctx)
	if err != nil {
		what := "logs"
		if opts.previous {
			what = "previous container's logs"
		}
		return nil, fmt.Errorf("%s of %s/%s container %s: %w", what, ns, pod, container, err)
	}
	defer rc.Close()
	var out []LogLine
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		out = append(out, LogLine{Pod: pod, Container: container, Number: n, Text: sc.Text()})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("logs of %s/%s container %s: %w", ns, pod, container, err)
	}
	return out, nil
}

// Finding is one ERROR-level log line.
type Finding struct {
	Pod, Container string
	Line           int
	Excerpt        string // the line, cut at 240 bytes
}

func (f Finding) String() string {
	return fmt.Sprintf("pod %s container %s line %d: %s", f.Pod, f.Container, f.Line, f.Excerpt)
}

var (
	plainError  = regexp.MustCompile(`\b(ERROR|FATAL|PANIC)\b|(?i:\blevel=(error|fatal|panic)\b)|^panic: `)
	errorLevels = map[string]bool{"error": true, "err": true, "fatal": true, "panic": true, "critical": true}
	levelKeys   = []string{"level", "lvl", "severity", "log.level"}
)

// IsErrorLine reports whether a log line is ERROR level or worse: a JSON
// object whose "level" (or "lvl", "severity", "log.level") is error, err,
// fatal, panic or critical in any case, or a number >= 50 (pino/bunyan:
// 50 error, 60 fatal); otherwise a line with the token
// ERROR, FATAL or PANIC, a logfmt level=error|fatal|panic, or a Go
// "panic: " line.
func IsErrorLine(text string) bool {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{") {
		var m map[string]any
		if json.Unmarshal([]byte(t), &m) == nil {
			for _, k := range levelKeys {
				switch v := m[k].(type) {
				case string:
					return errorLevels[strings.ToLower(v)]
				case float64:
					return v >= 50 // pino/bunyan (Node.js): 50 error, 60 fatal
				}
			}
		}
	}
	return plainError.MatchString(t)
}

// ScanErrors returns the ERROR-level lines (IsErrorLine) that no allowlist
// pattern matches, in input order.
func ScanErrors(lines []LogLine, allowlist []*regexp.Regexp) []Finding {
	var out []Finding
next:
	for _, l := range lines {
		if !IsErrorLine(l.Text) {
			continue
		}
		for _, re := range allowlist {
			if re.MatchString(l.Text) {
				continue next
			}
		}
		out = append(out, Finding{Pod: l.Pod, Container: l.Container, Line: l.Number, Excerpt: truncate(l.Text, 240)})
	}
	return out
}
