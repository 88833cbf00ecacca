package flow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// UncachedFile is where Uncached keeps its marker, under the module root
// (a folder git ignores).
const UncachedFile = ".runbook/uncached"

var (
	uncachedOnce sync.Once
	uncachedPath string
	uncachedErr  error
)

// Uncached makes the result of the running `go test` impossible to cache,
// so that `go test ./smoke -tags=prod` run twice reaches the target twice
// instead of printing "ok ... (cached)": a cached pass is evidence of an
// earlier deployment, not of this one.
//
// How: go test caches a result only when every file the test opened is
// unchanged and older than a couple of seconds, and it checks only files
// inside the module. The test therefore opens a marker under the module
// root whose modification time is in the future: such a file is always
// "too new", so go neither stores nor reuses the result (cmd/go's
// modTimeCutoff). A marker that cannot be written fails the test: a
// result that could be replayed is not evidence.
func Uncached(tb testing.TB) {
	tb.Helper()
	uncachedOnce.Do(func() { uncachedPath, uncachedErr = writeUncachedMarker() })
	if uncachedErr != nil {
		tb.Fatalf("this result could be cached and replayed by a later `go test` without reaching the target: %v (run with -count=1)", uncachedErr)
	}
	// The open is what go test records; it must happen while a test runs.
	f, err := os.Open(uncachedPath)
	if err != nil {
		tb.Fatalf("this result could be cached and replayed by a later `go test`: opening %s: %v (run with -count=1)", uncachedPath, err)
	}
	if err := f.Close(); err != nil {
		tb.Fatalf("closing %s: %v", uncachedPath, err)
	}
}

func writeUncachedMarker() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, UncachedFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(p, []byte("go test never caches a result that opened this file: its modification time is in the future (internal/flow.Uncached)\n"), 0o644); err != nil {
		return "", err
	}
	future := time.Now().AddDate(10, 0, 0)
	if err := os.Chtimes(p, future, future); err != nil {
		return "", err
	}
	return p, nil
}

// moduleRoot is the folder holding go.mod, from the test's working
// directory (its package's folder) up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}
