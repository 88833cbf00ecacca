package checklist

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	runflow "github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/phase4"
)

// SmokeRecord is the record of one smoke run against an environment: what
// "Staging smoke tests passed" (item 5) reads. It is written from the run's
// `go test -json` output by SmokeRecordFrom:
//
//	go test -count=1 -json -tags=staging ./smoke | tee runs/<run>/smoke.json |
//	  runbook checklist record-smoke -env staging -version v2.0.0 -o runs/staging-smoke-v2.0.0.json
type SmokeRecord struct {
	Env     string    `json:"env"`
	Version string    `json:"version"`
	At      time.Time `json:"at"` // when the run ended
	// Flows is each top-level smoke test and its outcome: passed, failed,
	// skipped, "did not finish", or "step skipped: TestX/step" when the
	// test passed but a step of it skipped (Go passes a parent whose
	// subtests skip; a skipped step is not a passed flow).
	Flows map[string]string `json:"flows"`
	// NotApplicable are the steps that skipped because the target's file
	// declares them not applicable (flow.NotApplicableMark), step -> what
	// the declaration says. The flow still passes; every reader shows them.
	NotApplicable map[string]string `json:"notApplicable,omitempty"`
	// Passed is true only when every flow passed and all five ran.
	Passed bool `json:"passed"`
	// Problems says why Passed is false.
	Problems []string `json:"problems,omitempty"`
}

// SmokeRecordFrom reads `go test -json` output of ./smoke.
func SmokeRecordFrom(r io.Reader, env, version string, at time.Time) (SmokeRecord, error) {
	rec := SmokeRecord{Env: env, Version: version, At: at.UTC(), Flows: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	pkgFailed := false
	skipped := map[string][]string{} // flow -> its skipped steps
	declared := map[string]string{}  // step -> its NOT APPLICABLE line, from its output
	for sc.Scan() {
		var e testEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Test == "" {
			if e.Action == "fail" || e.Action == "build-fail" {
				pkgFailed = true
			}
			continue
		}
		if flow, _, ok := strings.Cut(e.Test, "/"); ok {
			if i := strings.Index(e.Output, runflow.NotApplicableMark); e.Action == "output" && i >= 0 {
				declared[e.Test] = strings.TrimSpace(e.Output[i:])
			}
			// A parent test passes when its subtests skip: a skipped step
			// means the flow did not pass, whatever its own outcome, unless
			// the target's file declares the step not applicable.
			if e.Action == "skip" {
				if msg := declared[e.Test]; msg != "" {
					if rec.NotApplicable == nil {
						rec.NotApplicable = map[string]string{}
					}
					rec.NotApplicable[e.Test] = msg
				} else {
					skipped[flow] = append(skipped[flow], e.Test)
				}
			}
			continue
		}
		switch e.Action {
		case "run":
			rec.Flows[e.Test] = "did not finish"
		case "pass":
			rec.Flows[e.Test] = "passed"
		case "fail":
			rec.Flows[e.Test] = "failed"
		case "skip":
			rec.Flows[e.Test] = "skipped"
		}
	}
	if err := sc.Err(); err != nil {
		return rec, fmt.Errorf("reading go test -json: %w", err)
	}
	for flow, steps := range skipped {
		if rec.Flows[flow] == "passed" {
			rec.Flows[flow] = "step skipped: " + strings.Join(steps, ", ")
		}
	}
	rec.Problems = rec.check()
	if pkgFailed && len(rec.Problems) == 0 {
		rec.Problems = append(rec.Problems, "the smoke test run failed outside the flows")
	}
	rec.Passed = len(rec.Problems) == 0
	return rec, nil
}

// check lists why the record is not a pass: a flow not passed, a flow of
// phase4.Flows missing.
func (s SmokeRecord) check() []string {
	var problems []string
	names := make([]string, 0, len(s.Flows))
	for n := range s.Flows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if s.Flows[n] != "passed" {
			problems = append(problems, fmt.Sprintf("%s %s", n, s.Flows[n]))
		}
	}
	for _, step := range slices.Sorted(maps.Keys(s.NotApplicable)) {
		if !slices.Contains(phase4.Declarable, step) {
			problems = append(problems, fmt.Sprintf("%s skipped as not applicable, but only %s may be declared so", step, strings.Join(phase4.Declarable, ", ")))
		}
	}
	for _, f := range phase4.Flows {
		found := false
		for _, n := range names {
			if strings.EqualFold(n, f.Test) {
				found = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("the %s flow did not run", f.Name))
		}
	}
	return problems
}

// Check says why the record does not prove a passed smoke run of version
// on env, or nil: it must be for that environment and version, and every
// one of the five flows must have passed (recomputed, not trusted).
func (s SmokeRecord) Check(env, version string) error {
	var problems []string
	if s.Env != env {
		problems = append(problems, fmt.Sprintf("it is a run against %q, not %s", s.Env, env))
	}
	if s.Version != version {
		problems = append(problems, fmt.Sprintf("it is for %s, not %s", s.Version, version))
	}
	problems = append(problems, s.check()...)
	if !s.Passed && len(problems) == 0 {
		problems = append(problems, "the record says the run did not pass: "+strings.Join(s.Problems, "; "))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// DeployRecord is the record of one deployment of an environment: what it
// runs. It is one of the sources "Staging deployment successful" reads
// (staging.deployRecord); the other is the cluster itself
// (staging.kubeContext).
type DeployRecord struct {
	Env     string `json:"env"`
	Version string `json:"version"`
	// Images are the deployments' images, deployment -> image with tag.
	Images map[string]string `json:"images"`
	// Status is "succeeded" when every rollout completed.
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// WriteJSON writes v to path (0600, folders created) atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".record-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(data, '\n'))
	if err := errors.Join(werr, tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadJSON reads the record at path into v; the error names the file.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is not a valid record: %w", path, err)
	}
	return nil
}
