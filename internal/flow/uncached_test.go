package flow_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/granter/runbook/internal/flow"
)

// TestUncachedProbe is run by TestGoTestNeverCachesAFlow in a child
// `go test`; on its own it only checks that the marker can be opened.
func TestUncachedProbe(t *testing.T) {
	if os.Getenv("RUNBOOK_UNCACHED_PROBE") == "off" {
		return // the control: without the marker go test caches
	}
	flow.Uncached(t)
}

// The same `go test` run twice: with the marker the second run executes
// the test again ("ok ... 0.01s"), without it go prints "(cached)". The
// control proves the probe would see a cached result.
func TestGoTestNeverCachesAFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test twice (-short)")
	}
	run := func(mode string) string {
		cmd := exec.Command("go", "test", "-run", "^TestUncachedProbe$", ".")
		cmd.Env = append(os.Environ(), "RUNBOOK_UNCACHED_PROBE="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go test (probe %s): %v\n%s", mode, err, out)
		}
		return string(out)
	}
	for _, mode := range []string{"off", "on"} {
		first, second := run(mode), run(mode)
		cached := strings.Contains(second, "(cached)")
		switch {
		case mode == "off" && !cached:
			t.Fatalf("control: without the marker the second go test should be cached, got:\n%s", second)
		case mode == "on" && cached:
			t.Fatalf("with flow.Uncached the second go test was served from the cache, never reaching the target:\nfirst:  %ssecond: %s", first, second)
		}
	}
}
